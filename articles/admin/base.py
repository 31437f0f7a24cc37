"""Shared admin base class."""

from django.contrib import admin
from django.db import models


class NewsroomAdmin(admin.ModelAdmin):
    # Django 6 will assume https for scheme-less URLs typed into forms; opt in now.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
