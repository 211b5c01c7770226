from django.urls import path

from solidarity.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("verify/", views.verify, name="verify"),
    path("enrol/", views.enrol, name="enrol"),
    path("password/new/", views.replace_password, name="replace_password"),
    path("welcome/", views.invitation, name="invitation"),
    path("reauth/", views.reauth, name="reauth"),
    path("logout/", views.logout, name="logout"),
    path("backup-codes/", views.backup_codes, name="backup_codes"),
    path("keys/", views.keys, name="keys"),
    path("keys/add/", views.key_add, name="key_add"),
    path("keys/<int:pk>/remove/", views.key_remove, name="key_remove"),
    path("keys/enrol/", views.key_enrol, name="key_enrol"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/end/", views.session_end, name="session_end"),
    path("sessions/end-member/", views.member_sessions_end, name="member_sessions_end"),
]
