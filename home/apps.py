from django.apps import AppConfig


class HomeConfig(AppConfig):
    """Home pages (the teacher's compliance card, the reviewers' to-do lists), the deadlines
    calendar with its iCalendar feed, reminders and the hours transcript."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "home"

    def ready(self) -> None:
        from accounts.views import ROSTER_COLUMNS

        from .behind import roster_column

        ROSTER_COLUMNS.append(roster_column)

        # The school's transcripts (a PDF per teacher) are an export job: too long to build in a request.
        from verification.exports import register_builder

        from .transcript import build_school_zip_export

        register_builder("transcripts", build_school_zip_export)
