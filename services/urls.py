from django.urls import path

from services import views

app_name = "services"

urlpatterns = [
    path("", views.CaseListView.as_view(), name="case_list"),
    path("new/", views.CaseCreateView.as_view(), name="case_create"),
    path("earlier/", views.EarlierCasesView.as_view(), name="earlier_cases"),
    path("cases/<int:pk>/", views.CaseDetailView.as_view(), name="case_detail"),
    path("cases/<int:pk>/edit/", views.CaseUpdateView.as_view(), name="case_update"),
    path("cases/<int:pk>/close/", views.CaseCloseView.as_view(), name="case_close"),
    path("cases/<int:pk>/refer/", views.CaseReferView.as_view(), name="case_refer"),
    path("cases/<int:pk>/reopen/", views.CaseReopenView.as_view(), name="case_reopen"),
    path("cases/<int:pk>/follow-up/", views.CaseFollowUpView.as_view(), name="case_follow_up"),
    path("cases/<int:pk>/legal-aid/", views.LegalAidEditView.as_view(), name="legal_aid_edit"),
    path("legal-aid/", views.LegalAidListView.as_view(), name="legal_aid_list"),
    path("referrals/", views.JobReferralListView.as_view(), name="referral_list"),
    path("referrals/new/", views.JobReferralEditView.as_view(), name="referral_create"),
    path("referrals/<int:pk>/edit/", views.JobReferralEditView.as_view(), name="referral_update"),
    path("trainings/", views.TrainingCourseListView.as_view(), name="course_list"),
    path("trainings/new/", views.TrainingCourseEditView.as_view(), name="course_create"),
    path("trainings/<int:pk>/", views.TrainingCourseDetailView.as_view(), name="course_detail"),
    path("trainings/<int:pk>/edit/", views.TrainingCourseEditView.as_view(), name="course_update"),
    path(
        "trainings/<int:course_pk>/attendees/new/",
        views.TrainingAttendeeEditView.as_view(),
        name="attendee_create",
    ),
    path(
        "attendees/<int:pk>/edit/", views.TrainingAttendeeEditView.as_view(), name="attendee_update"
    ),
    path("statistics/", views.StatisticsView.as_view(), name="statistics"),
]
