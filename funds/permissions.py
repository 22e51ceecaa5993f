"""Who does what with the funds (DOMAIN.md "Who uses it"): the clerk requests, the supervisor
approves, finance receives, pays, refunds, reconciles and verifies, the upper-level union reads
statements, the administrator configures sources, types, standards and closed years."""

from orgs.roles import Role

REFERENCE = {
    "funds.view_fundsource",
    "funds.view_assistancetype",
    "funds.view_assistancestandard",
}
READ_MONEY = {
    "funds.view_closedyear",
    "funds.view_receipt",
    "funds.view_refund",
    "funds.view_ledgerentry",
    "funds.view_repayment",
    "funds.view_fund_statement",
}
READ_REQUESTS = {"funds.view_assistancerequest", "funds.view_approval"}

ROLE_PERMISSIONS = {
    Role.CLERK: REFERENCE
    | READ_REQUESTS
    | {
        "funds.add_assistancerequest",
        # cancel an unpaid request, send a failed payment again after fixing the account
        "funds.change_assistancerequest",
    },
    Role.SUPERVISOR: REFERENCE
    | READ_REQUESTS
    | READ_MONEY
    | {
        "funds.approve_assistancerequest",
        "funds.change_assistancerequest",
        "funds.view_paymentbatch",
        "funds.view_verificationsample",
        "funds.view_verification",
    },
    Role.FINANCE: REFERENCE
    | READ_REQUESTS
    | READ_MONEY
    | {
        "funds.add_receipt",
        "funds.add_refund",
        "funds.add_repayment",
        "funds.reverse_ledgerentry",
        "funds.pay_assistancerequest",
        "funds.change_assistancerequest",
        "funds.view_paymentbatch",
        "funds.add_paymentbatch",
        "funds.view_paymentbatchline",
        "funds.view_verificationsample",
        "funds.add_verificationsample",
        "funds.view_verification",
        "funds.change_verification",
    },
    # Upper-level unions read statements and lists, never change anything.
    Role.VIEWER: REFERENCE
    | READ_REQUESTS
    | READ_MONEY
    | {"funds.view_paymentbatch", "funds.view_verificationsample", "funds.view_verification"},
    Role.ADMIN: REFERENCE
    | READ_MONEY
    | {
        "funds.add_fundsource",
        "funds.change_fundsource",
        "funds.add_assistancetype",
        "funds.change_assistancetype",
        "funds.add_assistancestandard",
        "funds.change_assistancestandard",
        "funds.add_closedyear",
    },
}
