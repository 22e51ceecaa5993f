from django.urls import path

from funds import views

app_name = "funds"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("requests/", views.RequestListView.as_view(), name="request_list"),
    path("requests/new/", views.HouseholdPickView.as_view(), name="household_pick"),
    path("requests/batch/", views.RequestBatchView.as_view(), name="request_batch"),
    path(
        "households/<int:household_pk>/request/",
        views.RequestCreateView.as_view(),
        name="request_create",
    ),
    path(
        "households/<int:household_pk>/standard/",
        views.RequestStandardView.as_view(),
        name="request_standard",
    ),
    path(
        "households/<int:household_pk>/year/",
        views.HouseholdYearView.as_view(),
        name="household_year",
    ),
    path("requests/<int:pk>/", views.RequestDetailView.as_view(), name="request_detail"),
    path("requests/<int:pk>/decide/", views.RequestDecideView.as_view(), name="request_decide"),
    path("requests/<int:pk>/cancel/", views.RequestCancelView.as_view(), name="request_cancel"),
    path("requests/<int:pk>/retry/", views.RequestRetryView.as_view(), name="request_retry"),
    path("requests/<int:pk>/pay/", views.RequestPayView.as_view(), name="request_pay"),
    path("requests/<int:pk>/fail/", views.RequestFailView.as_view(), name="request_fail"),
    path("requests/<int:pk>/repay/", views.RepaymentCreateView.as_view(), name="repayment_create"),
    path("receipts/", views.ReceiptListView.as_view(), name="receipt_list"),
    path("receipts/new/", views.ReceiptCreateView.as_view(), name="receipt_create"),
    path("refunds/", views.RefundListView.as_view(), name="refund_list"),
    path("refunds/new/", views.RefundCreateView.as_view(), name="refund_create"),
    path("ledger/", views.LedgerListView.as_view(), name="ledger"),
    path("ledger/<int:pk>/reverse/", views.EntryReverseView.as_view(), name="entry_reverse"),
    path("closed-years/", views.ClosedYearView.as_view(), name="closed_years"),
    path("closed-years/close/", views.YearCloseView.as_view(), name="year_close"),
    path("batches/", views.BatchListView.as_view(), name="batch_list"),
    path("batches/<int:pk>/", views.BatchDetailView.as_view(), name="batch_detail"),
    path("batches/<int:pk>/file/", views.BatchDownloadView.as_view(), name="batch_download"),
    path("verification/", views.SampleListView.as_view(), name="sample_list"),
    path("verification/<int:pk>/", views.SampleDetailView.as_view(), name="sample_detail"),
    path(
        "verification/items/<int:pk>/",
        views.VerificationRecordView.as_view(),
        name="verification_record",
    ),
    path(
        "verification/items/<int:pk>/follow-up/",
        views.VerificationResolveView.as_view(),
        name="verification_resolve",
    ),
    path("verification/discrepancies/", views.DiscrepancyListView.as_view(), name="discrepancies"),
    path("statement/", views.StatementView.as_view(), name="statement"),
    path("statement/xlsx/", views.StatementExcelView.as_view(), name="statement_xlsx"),
    path("export/", views.FundsExportView.as_view(), name="export"),
]
