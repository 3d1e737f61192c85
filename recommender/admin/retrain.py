"""Admin for retraining the song classifier from curated labels (a module of recommender.admin).

*Retrain the song classifier* (a button on the song list and on this page) asks for a run; the
work is recommender/retraining.py, queued as a task. Superusers and curators may ask (the
``add_classifierrun`` permission); the runs themselves are read-only.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from .. import retraining
from ..models import ClassifierRun

RETRAIN_PERMISSION = "recommender.add_classifierrun"


def can_retrain(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm(RETRAIN_PERMISSION)


def describe_scores(run: ClassifierRun) -> str:
    """'en macro-F1 0.612 (was 0.579), zh 0.530 (was 0.534)'."""
    parts = []
    for lang, figures in sorted(run.scores.items()):
        text = _("%(lang)s macro-F1 %(f1).3f") % {"lang": lang, "f1": figures["macro_f1"]}
        before = run.previous_scores.get(lang)
        if before:
            text += " " + _("(was %(f1).3f)") % {"f1": before["macro_f1"]}
        parts.append(text)
    return ", ".join(parts)


class RetrainForm(forms.Form):
    langs = forms.MultipleChoiceField(
        label=_("Languages"), choices=[("en", _("English")), ("zh", _("Chinese"))], initial=["en", "zh"],
        widget=forms.CheckboxSelectMultiple)
    max_train = forms.IntegerField(
        label=_("Quick run: at most this many training texts per language"), required=False,
        min_value=retraining.MIN_MAX_TRAIN,
        help_text=_("Leave empty for a full run (about 8 minutes for both languages on 2 cores). A quick run is "
                    "for trying things out; it is usually worse and so is not shipped unless you tick the box "
                    "below."))
    force = forms.BooleanField(
        label=_("Replace the shipped model even if worse"), required=False,
        help_text=_("Otherwise the new model replaces the shipped one only when its test macro-F1 is at least as "
                    "good in every language trained."))


@admin.register(ClassifierRun)
class ClassifierRunAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "shipped", "requested_by", "requested_at", "took", "figures",
                    "admin_examples", "short_message")
    list_filter = ("status", "shipped")
    list_select_related = ("requested_by",)
    ordering = ("-requested_at", "-id")
    readonly_fields = ("status", "shipped", "model_path", "requested_by", "requested_at", "started_at",
                       "finished_at", "options", "admin_examples", "figures", "message", "log")
    fields = readonly_fields
    change_list_template = "admin/recommender/classifierrun/change_list.html"

    @admin.display(description=_("took"))
    def took(self, run):
        return str(run.duration).split(".")[0] if run.duration is not None else "—"

    @admin.display(description=_("test macro-F1"))
    def figures(self, run):
        return describe_scores(run) or "—"

    @admin.display(description=_("outcome"))
    def short_message(self, run):
        return run.message if len(run.message) <= 160 else run.message[:160] + "…"

    def has_add_permission(self, request):
        return False  # runs are asked for with the retrain form, not made by hand

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_urls(self):
        return [path("retrain/", self.admin_site.admin_view(self.retrain_view),
                     name="recommender_classifierrun_retrain"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_retrain": can_retrain(request.user)}
        return super().changelist_view(request, extra_context)

    def retrain_view(self, request):
        if not can_retrain(request.user):
            raise PermissionDenied
        form = RetrainForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = retraining.request_retrain(request.user, langs=form.cleaned_data["langs"],
                                                 max_train=form.cleaned_data["max_train"],
                                                 force=form.cleaned_data["force"])
            except retraining.RetrainAlreadyRunning as error:
                self.message_user(request, str(error), messages.ERROR)
                return redirect(reverse("admin:recommender_classifierrun_changelist"))
            except ValueError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(request, _("Retraining #%(id)d of the song classifier is queued; its outcome "
                                             "shows here when it ends.") % {"id": run.pk}, messages.SUCCESS)
                return redirect(reverse("admin:recommender_classifierrun_changelist"))
        last_run = retraining.last_run()
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "last_run": last_run, "last_run_scores": describe_scores(last_run) if last_run else "",
                   "title": _("Retrain the song classifier from curated labels")}
        return render(request, "admin/recommender/classifierrun/retrain.html", context)
