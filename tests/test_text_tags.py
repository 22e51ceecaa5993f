"""Punctuation that follows the interface language (orgs/templatetags/text.py)."""

from django.template import Context, Template
from django.utils import translation


def test_the_colon_between_a_label_and_its_value_follows_the_language():
    template = Template("{% load text %}状态{% colon %}完成")
    with translation.override("zh-hans"):
        assert template.render(Context()) == "状态：完成"
    with translation.override("en"):
        assert template.render(Context()) == "状态: 完成"
