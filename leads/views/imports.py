# Filled in by the CSV import work.
from django.http import HttpResponse


def import_list(request):
    return HttpResponse(status=501)


import_detail = import_progress = import_check = import_commit = import_list
