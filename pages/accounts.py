"""账号管理 (管理员): list accounts, create one, change one (optimistic: refused if changed meanwhile); own password.

The page model is views.accounts; every change is audited there (data.security.auth) with the change.
"""
from __future__ import annotations

import streamlit as st


from components import filters, locale, session
from components.auth_ui import change_password_section, principal
from components.tables import show_table
from components.text import md
from views import accounts as view

filters.ensure_entry_script()  # this page reads no shared filter, but must run through app.py

who = principal()
st.title("账号管理")
if not who.is_admin:
    st.error(view.ADMINS_ONLY)
    st.stop()

reader = session.reader()
page = view.build(reader)  # not cached: accounts change without a data version
if flash := st.session_state.pop("acct_flash", None):
    st.success(md(flash))  # it names the account as typed

# --- list -------------------------------------------------------------------------------------------
st.subheader("全部账号")
st.caption(page.caption)
show_table(page.table, key="acct_list", file_name="账号清单")
with st.expander("各角色的权限"):
    st.markdown(page.roles_help)
street_codes = [""] + list(page.streets)

# --- create -----------------------------------------------------------------------------------------
st.subheader("新建账号")
# After a refused create the administrator corrects what was wrong: everything typed stays but the two passwords
# (typed again); after a create the form is empty. Widgets' values can only be dropped before they are drawn.
NEW_FIELDS = ("acct_new_username", "acct_new_name", "acct_new_role", "acct_new_street")
NEW_PASSWORDS = ("acct_new_password", "acct_new_password2")
for field in st.session_state.pop("acct_new_clear", ()):
    st.session_state.pop(field, None)
with st.form("acct_create", clear_on_submit=False):
    c1, c2 = st.columns(2)
    username = c1.text_input("新账号的用户名", key="acct_new_username", help="登录用，不能含空格，最长 50 个字符")
    display_name = c2.text_input("显示名称", key="acct_new_name", help="例如姓名或科室名称")
    role = c1.selectbox("角色", view.ROLE_KEYS, format_func=view.role_label, key="acct_new_role", placeholder=locale.PICK)
    street = c2.selectbox("所属街道（仅街道账号）", street_codes, key="acct_new_street", format_func=page.street_label, placeholder=locale.PICK)
    password = c1.text_input("初始密码", type="password", key="acct_new_password",
                             help="至少 8 位，含字母、数字、符号中的两类；首次登录时必须修改")
    again = c2.text_input("再次输入初始密码", type="password", key="acct_new_password2")
    create = st.form_submit_button("新建账号", type="primary")
if create:
    try:
        st.session_state["acct_flash"] = view.create_account(reader, username=username, display_name=display_name,
                                                             role=role, street=street, password=password, again=again)
    except view.AuthError as exc:
        st.session_state["acct_new_error"] = str(exc)
        st.session_state["acct_new_clear"] = NEW_PASSWORDS
    else:
        st.session_state["acct_new_clear"] = NEW_FIELDS + NEW_PASSWORDS
    st.rerun()
if st.session_state.get("acct_new_error"):
    st.error(md(st.session_state.pop("acct_new_error")))

# --- edit -------------------------------------------------------------------------------------------
st.subheader("修改账号")
if page.accounts.empty:
    st.info("还没有账号。")
else:
    picked = st.selectbox("选择账号", page.accounts["username"].tolist(), key="acct_edit_pick",
                          format_func=lambda u: f"{u}（{page.account(u)['display_name']}）", placeholder=locale.PICK)
    row = page.account(picked)
    # The version the administrator is looking at, kept until saved or refreshed: a save is refused
    # when someone else changed the account in between.
    seen_key = f"acct_seen_{picked}"
    seen = st.session_state.setdefault(seen_key, int(row["version"]))
    if seen != int(row["version"]):
        st.warning("该账号在您打开后已被他人修改，现在保存会被拒绝。请先点“刷新”，再在最新内容上修改。")
    locked = view.is_locked(row["locked_until"])
    with st.form(f"acct_edit_{picked}_{seen}"):
        c1, c2 = st.columns(2)
        k = f"{picked}_{seen}"  # fresh widgets (showing the stored values) for each account and version
        new_name = c1.text_input("显示名称", value=row["display_name"], key=f"acct_e_name_{k}")
        new_role = c2.selectbox("角色", view.ROLE_KEYS, index=view.ROLE_KEYS.index(row["role"]),
                                format_func=view.role_label, key=f"acct_e_role_{k}", placeholder=locale.PICK)
        current_street = row["subdistrict_code"] if row["subdistrict_code"] in page.streets else ""
        new_street = c1.selectbox("所属街道（仅街道账号）", street_codes, index=street_codes.index(current_street),
                                  format_func=page.street_label, key=f"acct_e_street_{k}", placeholder=locale.PICK)
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
        try:
            done = view.save_account(reader, picked, seen, display_name=new_name, role=new_role, street=new_street,
                                     active=active, unlock=unlock, reset_password=reset)
        except view.AuthError as exc:
            st.error(md(exc))
        else:
            if done is None:  # nothing differed from the stored account: nothing written, nothing audited
                st.info("内容与当前账号相同，未作修改。")
            else:
                st.session_state.pop(seen_key, None)
                st.session_state["acct_flash"] = done
                st.rerun()

# --- own password (every account also has 修改密码 in the sidebar) ------------------------------------
st.subheader("我的密码")
change_password_section(who)
