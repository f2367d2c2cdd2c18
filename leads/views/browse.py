from django.http import HttpResponse


def lead_list(request):
    return HttpResponse(status=501)


lead_detail = company_list = company_detail = lead_list
