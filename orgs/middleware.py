from django.conf import settings
from django.http import HttpResponseBadRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext as _


class DefaultLanguageMiddleware(LocaleMiddleware):
    """Simplified Chinese unless the user picked another language with the switcher (cookie):
    the browser's Accept-Language does not decide, so a shared office PC set to English still
    shows the staff pages in Chinese."""

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen not in dict(settings.LANGUAGES):
            chosen = settings.LANGUAGE_CODE
        translation.activate(chosen)
        request.LANGUAGE_CODE = translation.get_language()


def refuse_nul_in_query(get_response):
    """A query string holding a NUL character gets 400. Views look organisations and records up
    by query parameters (?org=…), and PostgreSQL refuses NUL in any text value: the lookup would
    end in a 500. No one types NUL; forms posting it get their field errors from Django's own
    validators."""

    def middleware(request):
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return HttpResponseBadRequest(_("请求参数中含有无效字符。"))
        return get_response(request)

    return middleware
