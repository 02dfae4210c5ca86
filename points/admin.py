from django.contrib import admin

from .models import EarningRule, ExchangeWindow

admin.site.register(EarningRule)
admin.site.register(ExchangeWindow)
