"""API tokens (hashed, expiring, revocable) and the append-only audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiTokenQuerySet(models.QuerySet):
    def live(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 digest of the secret is stored; the prefix finds the row.

    The secret is shown once, when it is issued. It stops working when it expires, when its
    owner revokes it, logs out or changes the password.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(_("前缀"), max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"))
    last_used_at = models.DateTimeField(_("最后使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API令牌")
        verbose_name_plural = _("API令牌")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class AuditEventKind(models.TextChoices):
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOGOUT = "logout", _("退出")
    ROLE_SWITCH = "role_switch", _("切换角色")
    PASSWORD_CHANGE = "password_change", _("修改密码")
    PASSWORD_ISSUED = "password_issued", _("发放初始密码")
    MFA_ENROL = "mfa_enrol", _("绑定两步验证")
    MFA_FAILED = "mfa_failed", _("两步验证失败")
    MFA_RECOVERY_USED = "mfa_recovery_used", _("使用恢复码")
    TOKEN_ISSUE = "token_issue", _("签发API令牌")
    TOKEN_REVOKE = "token_revoke", _("撤销API令牌")
    ID_NUMBER_VIEW = "id_number_view", _("查看完整身份证号")
    EXPORT = "export", _("导出")
    POLICY_CHANGE = "policy_change", _("修改年度政策")
    DEADLINE_CHANGE = "deadline_change", _("修改截止日期")
    ROLE_CHANGE = "role_change", _("修改角色")


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Audit events are append-only.")

    def delete(self):
        raise TypeError("Audit events are append-only; use security.services.audit_prune.")


class AuditEvent(models.Model):
    """One security-relevant event. Never changed or deleted, except by the retention prune.

    `details` never holds a full ID number (masked values only).
    """

    time = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    event = models.CharField(_("事件"), max_length=40, choices=AuditEventKind.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_username = models.CharField(_("用户名"), max_length=150, blank=True, db_index=True)
    role = models.CharField(_("角色"), max_length=100, blank=True)
    ip_address = models.GenericIPAddressField(_("地址"), null=True, blank=True)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=40, blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-time", "-pk"]
        # The log and each filter of it walk these backwards, newest first, a page at a time (keyset).
        indexes = [
            models.Index(fields=["time", "id"], name="audit_time_idx"),
            models.Index(fields=["event", "time", "id"], name="audit_event_time_idx"),
            models.Index(fields=["actor_username", "time", "id"], name="audit_actor_time_idx"),
        ]
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.event} {self.actor_username}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are append-only.")
