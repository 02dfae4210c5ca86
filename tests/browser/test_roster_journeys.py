"""What school admins and teachers see when they keep the roster and their own record."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from accounts.models import Role, RoleKind, Teacher
from tests.factories import TeacherFactory, UserFactory, valid_id_number


def _logout(page: Page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_test_id("login-form")).to_be_visible()


def _roster_row(page: Page, name: str):
    return page.get_by_test_id("roster-table").get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def test_school_admin_adds_a_teacher_and_transfers_another_to_a_school_that_then_sees_them(page: Page, live_world, login):
    login("school_a1_admin")
    expect(page.get_by_test_id("workspace-title")).to_have_text("学校管理员 · 育才小学")

    page.get_by_role("navigation").get_by_role("link", name="教师名册").click()
    expect(page).to_have_url(re.compile(r"/roster/$"))
    expect(_roster_row(page, "育才小学老师")).to_be_visible()

    # Add a teacher.
    page.get_by_test_id("add-teacher").click()
    form = page.get_by_test_id("teacher-form")
    id_number = valid_id_number()
    form.get_by_label("姓名").fill("林晓雯")
    form.get_by_label("身份证号").fill(id_number)
    form.get_by_label("性别").select_option(label="女")
    form.get_by_label("学段").select_option(label="小学")
    form.get_by_label("任教学科").select_option(label="语文")
    form.get_by_label("职称").select_option(label="二级教师")
    form.get_by_label("岗位类型").select_option(label="专任教师")
    form.get_by_label("参加工作日期").fill("2018-09-01")
    form.get_by_role("button", name="保存").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("林晓雯")
    added = Teacher.objects.get(id_number=id_number)
    assert added.school == live_world.school_a1 and added.cpd_number
    expect(page.get_by_role("status")).to_have_text(f"已添加教师 林晓雯，继续教育证号 {added.cpd_number}。")
    expect(page.get_by_test_id("teacher-school")).to_have_text("育才小学")

    # Transfer another teacher of the school to 东山中学.
    page.get_by_role("navigation").get_by_role("link", name="教师名册").click()
    page.get_by_test_id("roster-table").get_by_role("link", name="育才小学老师", exact=True).click()
    page.get_by_test_id("transfer").click()
    action = page.get_by_test_id("action-form")
    action.get_by_label("调入学校").select_option(label="东山中学")
    action.get_by_label("生效日期").fill("2025-09-01")
    action.get_by_role("button", name="确定").click()

    expect(page).to_have_url(re.compile(r"/roster/$"))
    expect(page.get_by_role("status")).to_have_text("育才小学老师 已调往 东山中学。")
    expect(_roster_row(page, "林晓雯")).to_be_visible()
    expect(_roster_row(page, "育才小学老师")).to_have_count(0)

    # The receiving school's admin sees the teacher, with the transfer in the history.
    _logout(page)
    login("school_a2_admin")
    expect(page.get_by_test_id("workspace-title")).to_have_text("学校管理员 · 东山中学")
    page.get_by_role("navigation").get_by_role("link", name="教师名册").click()
    expect(_roster_row(page, "育才小学老师")).to_contain_text("东山中学")
    page.get_by_test_id("roster-table").get_by_role("link", name="育才小学老师", exact=True).click()
    expect(page.get_by_test_id("teacher-school")).to_have_text("东山中学")
    transfer_row = page.get_by_test_id("history").get_by_role("row").filter(has_text="调动")
    expect(transfer_row).to_have_count(1)
    expect(transfer_row.get_by_role("cell")).to_have_text(
        ["2025-09-01", "调动", "育才小学", "东山中学", "", str(live_world.users["school_a1_admin"])]
    )


def test_teacher_completes_missing_record_fields_and_the_warning_goes(page: Page, live_world, login):
    user = UserFactory(username="lin_teacher")
    Role.objects.create(user=user, kind=RoleKind.TEACHER, organisation=live_world.school_a1)
    TeacherFactory(
        user=user, school=live_world.school_a1, name="林老师", subject="", title="", post_type="", first_employment_date=None
    )

    login("lin_teacher")
    warning = page.get_by_test_id("missing-fields")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("任教学科、职称、岗位类型、参加工作日期")

    page.get_by_role("navigation").get_by_role("link", name="个人信息").click()
    expect(page).to_have_url(re.compile(r"/me/record/$"))
    form = page.get_by_test_id("record-form")
    for label in ("学段", "任教学科", "职称", "岗位类型", "参加工作日期"):
        expect(form.locator("label", has_text=label).locator(".req")).to_have_text("*")
    expect(page.get_by_test_id("record-complete")).to_have_count(0)

    form.get_by_label("任教学科").select_option(label="数学")
    form.get_by_label("职称").select_option(label="一级教师")
    form.get_by_label("岗位类型").select_option(label="专任教师")
    form.get_by_label("参加工作日期").fill("2012-09-01")
    form.get_by_role("button", name="保存").click()

    expect(page.get_by_role("status")).to_have_text("个人信息已保存。")
    expect(page.get_by_test_id("record-complete")).to_be_visible()
    expect(page.get_by_test_id("missing-fields")).to_have_count(0)

    page.get_by_role("navigation").get_by_role("link", name="工作台").click()
    expect(page.get_by_test_id("workspace-title")).to_have_text("教师 · 育才小学")
    expect(page.get_by_test_id("missing-fields")).to_have_count(0)


def test_user_with_two_roles_switches_role_in_the_header(page: Page, live_world, login):
    Role.objects.create(user=live_world.users["teacher_a1"], kind=RoleKind.SCHOOL_ADMIN, organisation=live_world.school_a1)

    login("teacher_a1")
    # The school admin role outranks the teacher role, so it is the one a login starts in.
    expect(page.get_by_test_id("workspace-title")).to_have_text("学校管理员 · 育才小学")

    page.get_by_test_id("role-switcher").locator("select").select_option(label="教师 · 育才小学")

    expect(page.get_by_test_id("workspace-title")).to_have_text("教师 · 育才小学")
    expect(page.get_by_role("status")).to_have_text("已切换到：教师 · 育才小学")
    expect(page.get_by_role("navigation").get_by_role("link", name="个人信息")).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link", name="教师名册")).to_have_count(0)


def test_clicking_english_switches_the_page_language(page: Page, live_world, login):
    login("school_a1_admin")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "zh-hans")

    # Located by its language code: in the Chinese UI the button reads "英语", not "English"
    # (base.html prints LANGUAGES' translated names rather than each language's own name).
    page.locator("button[name=language][value=en]").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/$"))

    # The choice sticks for the next page.
    page.goto("/roster/")
    expect(html).to_have_attribute("lang", "en")


def test_city_settings_sit_in_a_menu_that_opens_on_click(page: Page, live_world, login):
    """The city admin's nav keeps the everyday pages in view and the settings in one menu."""
    login("city_admin")
    nav = page.get_by_role("navigation")
    requirements = nav.get_by_role("link", name="验证标准")
    expect(requirements).to_be_hidden()

    nav.get_by_text("市级设置").click()
    expect(requirements).to_be_visible()
    requirements.click()

    expect(page).to_have_url(re.compile(r"/verification/policies/$"))
