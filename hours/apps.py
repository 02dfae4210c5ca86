from django.apps import AppConfig


class HoursConfig(AppConfig):
    name = "hours"
    verbose_name = "学时"

    def ready(self) -> None:
        # accounts sits below hours: a declaration's district follows its teacher's transfer and its
        # school's move to another district (`Declaration.district`), handed down here.
        from accounts import services as accounts_services

        from .services import declarations_follow_school, declarations_follow_teacher

        if declarations_follow_teacher not in accounts_services.TEACHER_MOVED:
            accounts_services.TEACHER_MOVED.append(declarations_follow_teacher)
        if declarations_follow_school not in accounts_services.SCHOOL_MOVED:
            accounts_services.SCHOOL_MOVED.append(declarations_follow_school)
