"""Personal data on screen: masked by default; a user whose role may see it can reveal it for the session
by giving a reason (audited before anything is shown), and every download while revealed is audited."""
from __future__ import annotations

import streamlit as st

from components.auth_ui import principal, set_principal
from data.security import access
from data.security.audit import record_now
from data.db.cache import engine


def reveal_control(where: str, key: str) -> access.Principal:
    """Draw the reveal / re-mask control for a personal list; return the (possibly revealed) principal."""
    who = principal()
    if not who.can_see_personal:
        st.caption(f"{who.role_label}账号只能查看汇总数据。")
        return who
    if who.reveal:
        st.warning("正在显示完整个人信息（本次查看已记入审计日志）。请勿截屏、外传。")
        if st.button("恢复脱敏显示", key=f"{key}_mask"):
            set_principal(access.withdraw_reveal(who))
            st.rerun()
        return who
    with st.popover("显示完整信息（需填写理由，留痕）"):
        reason = st.text_input("查看理由", key=f"{key}_reason", placeholder="例如：核对 6 月发放名单")
        if st.button("确认显示", key=f"{key}_reveal"):
            try:
                set_principal(access.grant_reveal(engine(), who, reason, where))
            except access.AccessDenied as exc:
                st.error(str(exc))
            else:
                st.rerun()
    return who


def export_audit(where: str):
    """An on_download callback auditing an export of personal data when it is unmasked."""
    who = principal()
    if not who.reveal:
        return None

    def _audit() -> None:
        record_now(engine(), who, "export_personal", where)

    return _audit
