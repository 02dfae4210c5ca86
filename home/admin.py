from django.contrib import admin

from .models import ReminderSettings

admin.site.register(ReminderSettings)
