from django.conf import settings
from django.urls import include, path

urlpatterns = [path("", include("spid_cie_oidc.entity.urls"))]
if settings.ROLE == "ta":
    urlpatterns += [path("", include("spid_cie_oidc.authority.urls"))]
else:
    urlpatterns += [path("", include("spid_cie_oidc.relying_party.urls"))]
