"""Personal numbers on pages: `{{ phone|phone_for:perms.households.view_full_identifiers }}`
shows a phone number in full to the roles that may see full numbers, masked to the others (the
rule of the household page and the exports, orgs.pii.mask_phone)."""

from django import template

from orgs.pii import mask_phone

register = template.Library()


@register.filter
def phone_for(phone: str, full) -> str:
    return phone if full else mask_phone(phone or "")
