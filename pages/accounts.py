"""账号管理 (管理员): list accounts, create one, change one (optimistic: refused if changed meanwhile); own password.

Every change is audited by data.security.auth in the same transaction as the change.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from components import filters
from components.auth_ui import change_password_section, principal
from components.tables import show_table
from components.text import md
from data.security import auth
from data.db import cache
from data.queries.access import ROLE_HELP, ROLES
from data.queries import geography

filters.ensure_entry_script()  # this page reads no shared filter, but must run through app.py

who = principal()
st.title("账号管理")
if not who.is_admin:
    st.error("只有管理员可以管理账号。")
    st.stop()

engine = cache.engine()
streets = cache.q(geography.subdistrict_names)
accounts = auth.users(engine)  # not cached: accounts change without a data version
if flash := st.session_state.pop("acct_flash", None):
    st.success(md(flash))  # it names the account as typed


def _role_label(role: str) -> str:
    return ROLES.get(role, role)


def _street_label(code: str | None) -> str:
    return streets.get(code, code) if code else "—"


def _locked(row) -> bool:
    return row["locked_until"] is not None and not pd.isna(row["locked_until"]) \
        and pd.Timestamp(row["locked_until"]) > pd.Timestamp(datetime.now())


# --- list -------------------------------------------------------------------------------------------
st.subheader("全部账号")
shown = pd.DataFrame({
    "用户名": accounts["username"],
    "显示名称": accounts["display_name"],
    "角色": accounts["role"].map(_role_label),
    "所属街道": accounts["subdistrict_code"].map(_street_label),
    "状态": accounts["active"].map(lambda a: "启用" if a else "停用"),
    "锁定": [f"锁定至 {pd.Timestamp(r['locked_until']):%m-%d %H:%M}" if _locked(r) else "—"
             for _, r in accounts.iterrows()],
    "下次登录须改密码": accounts["must_change_password"].map(lambda m: "是" if m else "否"),
    "创建时间": pd.to_datetime(accounts["created_at"]).dt.strftime("%Y-%m-%d %H:%M"),
    "密码修改时间": pd.to_datetime(accounts["password_changed_at"]).dt.strftime("%Y-%m-%d %H:%M"),
})
st.caption(f"共 {len(accounts)} 个账号，其中启用 {int(accounts['active'].sum()) if len(accounts) else 0} 个。")
show_table(shown, key="acct_list", file_name="账号清单")
with st.expander("各角色的权限"):
    st.markdown("\n".join(f"- **{ROLES[r]}**：{ROLE_HELP[r]}" for r in ROLES))

street_codes = list(streets)

# --- create -----------------------------------------------------------------------------------------
st.subheader("新建账号")
with st.form("acct_create", clear_on_submit=True):
    c1, c2 = st.columns(2)
    username = c1.text_input("新账号的用户名", key="acct_new_username", help="登录用，不能含空格，最长 50 个字符")
    display_name = c2.text_input("显示名称", key="acct_new_name", help="例如姓名或科室名称")
    role = c1.selectbox("角色", list(ROLES), format_func=_role_label, key="acct_new_role")
    street = c2.selectbox("所属街道（仅街道账号）", [""] + street_codes, key="acct_new_street",
                          format_func=lambda c: "（不适用）" if not c else streets[c])
    password = c1.text_input("初始密码", type="password", key="acct_new_password",
                             help="至少 8 位，含字母、数字、符号中的两类；首次登录时必须修改")
    again = c2.text_input("再次输入初始密码", type="password", key="acct_new_password2")
    create = st.form_submit_button("新建账号", type="primary")
if create:
    if password != again:
        st.error("两次输入的初始密码不一致。")
    elif role == "street" and not street:
        st.error("街道账号必须选择所属街道。")
    else:
        try:
            auth.create_user(engine, username, password, role, display_name=display_name.strip() or None,
                             subdistrict_code=street or None, by=who, must_change_password=True)
        except auth.AuthError as exc:
            st.error(md(exc))
        else:
            st.session_state["acct_flash"] = (f"已新建账号“{username.strip()}”（{_role_label(role)}"
                                              f"{'，' + streets[street] if role == 'street' else ''}），"
                                              "首次登录时须修改密码。")
            st.rerun()

# --- edit -------------------------------------------------------------------------------------------
st.subheader("修改账号")
if accounts.empty:
    st.info("还没有账号。")
else:
    names = accounts["username"].tolist()
    picked = st.selectbox("选择账号", names, key="acct_edit_pick",
                          format_func=lambda u: f"{u}（{accounts.set_index('username').at[u, 'display_name']}）")
    row = accounts.set_index("username").loc[picked]
    # The version the administrator is looking at, kept until saved or refreshed: a save is refused
    # when someone else changed the account in between.
    seen_key = f"acct_seen_{picked}"
    seen = st.session_state.setdefault(seen_key, int(row["version"]))
    if seen != int(row["version"]):
        st.warning("该账号在您打开后已被他人修改，现在保存会被拒绝。请先点“刷新”，再在最新内容上修改。")
    locked = _locked(row)
    with st.form(f"acct_edit_{picked}_{seen}"):
        c1, c2 = st.columns(2)
        k = f"{picked}_{seen}"  # fresh widgets (showing the stored values) for each account and version
        new_name = c1.text_input("显示名称", value=row["display_name"], key=f"acct_e_name_{k}")
        new_role = c2.selectbox("角色", list(ROLES), index=list(ROLES).index(row["role"]), format_func=_role_label,
                                key=f"acct_e_role_{k}")
        codes = [""] + street_codes
        current_street = row["subdistrict_code"] if row["subdistrict_code"] in streets else ""
        new_street = c1.selectbox("所属街道（仅街道账号）", codes, index=codes.index(current_street),
                                  format_func=lambda c: "（不适用）" if not c else streets[c], key=f"acct_e_street_{k}")
        active = c2.checkbox("启用", value=bool(row["active"]), help="停用后不能登录，已登录的会话立即结束",
                             key=f"acct_e_active_{k}")
        unlock = c1.checkbox("解除锁定", value=False, disabled=not locked, key=f"acct_e_unlock_{k}",
                             help="密码连续输错被锁定的账号，可在此提前解锁" if locked else "该账号未被锁定")
        reset = c2.text_input("重置密码（留空则不改）", type="password", key=f"acct_e_reset_{k}",
                              help="重置后该账号下次登录时必须修改密码，已登录的会话立即结束")
        save = st.form_submit_button("保存修改", type="primary")
    if st.button("刷新", key="acct_refresh"):
        st.session_state.pop(seen_key, None)
        st.rerun()
    if save:
        if new_role == "street" and not new_street:
            st.error("街道账号必须选择所属街道。")
        else:
            try:
                saved = auth.update_user(engine, who, picked, seen, role=new_role,
                                         subdistrict_code=new_street or None, active=active,
                                         display_name=new_name.strip() or None, reset_password=reset or None,
                                         unlock=unlock)
            except auth.AuthError as exc:
                st.error(md(exc))
            else:
                if saved == seen:  # nothing differed from the stored account: nothing written, nothing audited
                    st.info("内容与当前账号相同，未作修改。")
                else:
                    st.session_state.pop(seen_key, None)
                    done = "已保存账号“%s”的修改" % picked
                    st.session_state["acct_flash"] = done + ("，新密码须在下次登录时修改。" if reset else "。")
                    st.rerun()

# --- own password (every account also has 修改密码 in the sidebar) ------------------------------------
st.subheader("我的密码")
change_password_section(who)
