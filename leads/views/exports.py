from django.http import HttpResponse


def lead_export(request):
    return HttpResponse(status=501)
