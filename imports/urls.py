from django.urls import path

from imports import views

app_name = "imports"
urlpatterns = [
    path("", views.ImportsIndexView.as_view(), name="index"),
    path("<str:kind>/template/", views.TemplateDownloadView.as_view(), name="template"),
    path("<str:kind>/upload/", views.UploadView.as_view(), name="upload"),
    path("<str:kind>/export/", views.ExportView.as_view(), name="export"),
    path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="job"),
    path("jobs/<int:pk>/status/", views.JobStatusView.as_view(), name="job_status"),
    path("jobs/<int:pk>/errors/", views.JobErrorsView.as_view(), name="errors"),
    path("jobs/<int:pk>/confirm/", views.JobConfirmView.as_view(), name="confirm"),
    path("jobs/<int:pk>/restart/", views.JobRestartView.as_view(), name="restart"),
    path("jobs/<int:pk>/download/", views.JobDownloadView.as_view(), name="download"),
]
