def workspaces(request):
    return {}
