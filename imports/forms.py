from django import forms
from django.utils.translation import gettext_lazy as _


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("工作簿（.xlsx）"),
        help_text=_("请使用导入模板。上传后先检查，确认无误后才会写入。"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )


class ExportForm(forms.Form):
    full = forms.BooleanField(
        label=_("导出完整的身份证号和银行账号"),
        required=False,
        help_text=_("仅限有权查看完整号码的角色；导出会记入个人信息访问日志。"),
    )
