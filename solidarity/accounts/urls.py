from django.urls import path

from solidarity.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("verify/", views.verify, name="verify"),
    path("enrol/", views.enrol, name="enrol"),
    path("reauth/", views.reauth, name="reauth"),
    path("logout/", views.logout, name="logout"),
    path("backup-codes/", views.backup_codes, name="backup_codes"),
]
