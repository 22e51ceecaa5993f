from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("summary/", views.SummaryView.as_view(), name="summary"),
    path("roster/", views.RosterView.as_view(), name="roster"),
]
