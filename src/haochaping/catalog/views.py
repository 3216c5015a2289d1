from django.db.models import Q
from django.shortcuts import render

from .models import ServiceItem


def home(request):
    return render(request, "home.html")


def item_list(request):
    q = request.GET.get("q", "").strip()[:50]
    items = ServiceItem.objects.filter(is_active=True).select_related("department", "region")
    if q:
        items = items.filter(Q(name__icontains=q) | Q(implementation_code__icontains=q))
    return render(request, "catalog/item_list.html", {"items": items[:100], "q": q, "total": items.count()})


def item_detail(request, implementation_code: str):
    item = (
        ServiceItem.objects.select_related("department", "region", "lead_department")
        .filter(implementation_code=implementation_code, is_active=True)
        .first()
    )
    if item is None:
        # A Chinese page that helps the visitor on (search), not the server's bare "Not Found".
        return render(request, "catalog/item_not_found.html", {"code": implementation_code[:60]}, status=404)
    guide = item.current_guide()
    versions = list(item.guides.values_list("version", "published_at"))
    return render(request, "catalog/item_detail.html", {"item": item, "guide": guide, "versions": versions})
