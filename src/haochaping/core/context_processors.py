def large_text(request):
    """Large-text mode (适老化, R8.3): on with ?large=1 or the cookie the toggle sets, off with ?large=0."""
    flag = request.GET.get("large")
    if flag in ("0", "1"):
        return {"large_text": flag == "1"}
    return {"large_text": request.COOKIES.get("large_text") == "1"}
