"""The API's description: /api/schema for programs, /api/docs for people."""

from itertools import groupby

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from webapp import openapi


@require_GET
def schema(request):
    """docs/openapi.yaml as JSON, or as its YAML source with ``?format=yaml``."""
    wanted = request.GET.get("format", "json")
    if wanted == "yaml":
        return HttpResponse(openapi.schema_text(), content_type="application/yaml; charset=utf-8")
    if wanted != "json":
        return JsonResponse({"error": _("Ask for format=json or format=yaml.")}, status=400)
    return HttpResponse(openapi.schema_json(), content_type="application/json")


@require_GET
def docs(request):
    spec = openapi.schema()
    operations = openapi.operations(spec)
    by_tag = [(tag, list(group)) for tag, group in groupby(operations, key=lambda o: (o["tags"] or [""])[0])]
    tag_descriptions = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    return render(request, "api_docs.html", {
        "info": spec["info"],
        "description": openapi.markdown(spec["info"].get("description")),
        "groups": [(tag, tag_descriptions.get(tag, ""), ops) for tag, ops in by_tag],
        "operations": operations,
    })
