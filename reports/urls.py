from django.urls import path
from django.views.generic import RedirectView

from reports import views

app_name = "reports"
urlpatterns = [
    # The section's address (typed, or cut back from a report's URL) opens its first report.
    path("", RedirectView.as_view(pattern_name="reports:summary"), name="index"),
    path("summary/", views.SummaryView.as_view(), name="summary"),
    path("roster/", views.RosterView.as_view(), name="roster"),
]
