from django.urls import path

from households import views

app_name = "households"

urlpatterns = [
    path("", views.HouseholdListView.as_view(), name="list"),
    path("count/", views.HouseholdCountView.as_view(), name="list_total"),
    path("standing/", views.StandingListsView.as_view(), name="standing"),
    path("new/", views.HouseholdCreateView.as_view(), name="create"),
    path("preview/", views.PreviewView.as_view(), name="preview"),
    path("notices/new/", views.NoticeStartView.as_view(), name="notice_start"),
    path("notices/<int:pk>/notice.pdf", views.NoticePdfView.as_view(), name="notice_pdf"),
    path("<int:pk>/", views.HouseholdDetailView.as_view(), name="detail"),
    path("<int:pk>/file.pdf", views.HouseholdFilePdfView.as_view(), name="file_pdf"),
    path("<int:pk>/edit/", views.HouseholdUpdateView.as_view(), name="edit"),
    path("<int:pk>/reveal/", views.RevealView.as_view(), name="reveal"),
    path("<int:pk>/actions/<slug:action>/", views.TransitionView.as_view(), name="transition"),
    path("<int:pk>/survey/", views.SurveyView.as_view(), name="survey"),
    path("<int:pk>/closure/", views.ClosureRequestView.as_view(), name="closure_request"),
    path("<int:pk>/objections/new/", views.ObjectionCreateView.as_view(), name="objection_create"),
    path("<int:pk>/documents/new/", views.DocumentUploadView.as_view(), name="document_upload"),
    path("closures/<int:pk>/decide/", views.ClosureDecideView.as_view(), name="closure_decide"),
    path(
        "objections/<int:pk>/resolve/",
        views.ObjectionResolveView.as_view(),
        name="objection_resolve",
    ),
    path("documents/<int:pk>/", views.DocumentDownloadView.as_view(), name="document_download"),
    path("<int:pk>/letter.pdf", views.HouseholdLetterPdfView.as_view(), name="letter_pdf"),
    path(
        "documents/<int:pk>/withdraw/",
        views.DocumentWithdrawView.as_view(),
        name="document_withdraw",
    ),
    path("late-entries/", views.LateEntriesView.as_view(), name="late_entries"),
    path("spot-checks/", views.SpotCheckListView.as_view(), name="spotcheck_list"),
    path("spot-checks/<int:pk>/", views.SpotCheckDetailView.as_view(), name="spotcheck_detail"),
    path(
        "spot-checks/items/<int:pk>/",
        views.SpotCheckRecordView.as_view(),
        name="spotcheck_record",
    ),
]
