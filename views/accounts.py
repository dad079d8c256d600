"""账号管理 (管理员): the accounts as listed, and the administrator's two actions — create one, change one.

Every change is audited by data.security.auth in the same transaction as the change; a change is optimistic
(refused when the account was changed since the administrator saw it). Accounts are read uncached: they change
without a data version.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from data.queries import geography
from data.security.access import ROLE_HELP, ROLES, Reader
from data.security import auth

AuthError = auth.AuthError
ROLE_KEYS = list(ROLES)
ADMINS_ONLY = "只有管理员可以管理账号。"
STREET_NEEDED = "街道账号必须选择所属街道。"


@dataclass(frozen=True)
class AccountsPage:
    accounts: pd.DataFrame   # one row per account, as stored (username, role, subdistrict_code, version …)
    table: pd.DataFrame      # the list as shown (Chinese headers)
    caption: str
    streets: dict[str, str]  # subdistrict code → name
    roles_help: str          # Markdown: what each role may do

    def account(self, username: str) -> pd.Series:
        return self.accounts.set_index("username").loc[username]

    def street_label(self, code: str | None) -> str:
        """A subdistrict picker's label ("" is the picker's "not applicable")."""
        return "（不适用）" if not code else self.streets[code]


def role_label(role: str) -> str:
    return ROLES.get(role, role)


def is_locked(locked_until, now: datetime | None = None) -> bool:
    """Whether an account locked after failed sign-ins is still locked."""
    return locked_until is not None and not pd.isna(locked_until) \
        and pd.Timestamp(locked_until) > pd.Timestamp(now or datetime.now())


def _table(accounts: pd.DataFrame, streets: dict[str, str]) -> pd.DataFrame:
    now = datetime.now()
    return pd.DataFrame({
        "用户名": accounts["username"],
        "显示名称": accounts["display_name"],
        "角色": accounts["role"].map(role_label),
        "所属街道": accounts["subdistrict_code"].map(lambda c: streets.get(c, c) if pd.notna(c) and c else "—"),
        "状态": accounts["active"].map(lambda a: "启用" if a else "停用"),
        "锁定": [f"锁定至 {pd.Timestamp(u):%m-%d %H:%M}" if is_locked(u, now) else "—"
                 for u in accounts["locked_until"]],
        "下次登录须改密码": accounts["must_change_password"].map(lambda m: "是" if m else "否"),
        "创建时间": pd.to_datetime(accounts["created_at"]).dt.strftime("%Y-%m-%d %H:%M"),
        "密码修改时间": pd.to_datetime(accounts["password_changed_at"]).dt.strftime("%Y-%m-%d %H:%M"),
    })


def build(reader: Reader) -> AccountsPage:
    """Every account (administrators only: AuthError otherwise)."""
    if not reader.principal.is_admin:
        raise AuthError(ADMINS_ONLY)
    streets = reader.q(geography.subdistrict_names)
    accounts = auth.users(reader.engine)
    active = int(accounts["active"].sum()) if len(accounts) else 0
    return AccountsPage(accounts=accounts, table=_table(accounts, streets),
                        caption=f"共 {len(accounts)} 个账号，其中启用 {active} 个。", streets=streets,
                        roles_help="\n".join(f"- **{ROLES[r]}**：{ROLE_HELP[r]}" for r in ROLES))


def create_account(reader: Reader, *, username: str, display_name: str, role: str, street: str, password: str,
                   again: str) -> str:
    """Create an account that must change its password at first sign-in; returns the message to show (it names the
    account as typed). AuthError with the reason in Chinese when refused."""
    if not reader.principal.is_admin:
        raise AuthError(ADMINS_ONLY)
    if password != again:
        raise AuthError("两次输入的初始密码不一致。")
    if role == "street" and not street:
        raise AuthError(STREET_NEEDED)
    auth.create_user(reader.engine, username, password, role, display_name=display_name.strip() or None,
                     subdistrict_code=street or None, by=reader.principal, must_change_password=True)
    where = "，" + reader.q(geography.subdistrict_names)[street] if role == "street" else ""
    return f"已新建账号“{username.strip()}”（{role_label(role)}{where}），首次登录时须修改密码。"


def save_account(reader: Reader, username: str, seen_version: int, *, display_name: str, role: str, street: str,
                 active: bool, unlock: bool, reset_password: str) -> str | None:
    """Change an account as last seen at `seen_version`; returns the message to show, or None when nothing differed
    from the stored account (nothing written, nothing audited). AuthError when refused (e.g. changed meanwhile)."""
    if role == "street" and not street:
        raise AuthError(STREET_NEEDED)
    saved = auth.update_user(reader.engine, reader.principal, username, seen_version, role=role,
                             subdistrict_code=street or None, active=active, display_name=display_name.strip() or None,
                             reset_password=reset_password or None, unlock=unlock)
    if saved == seen_version:
        return None
    return f"已保存账号“{username}”的修改" + ("，新密码须在下次登录时修改。" if reset_password else "。")
