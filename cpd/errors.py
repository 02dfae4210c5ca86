"""Domain errors shared by services, pages and the API."""


class StateConflict(Exception):
    """The object is not in a state that allows the action: the API answers 409, pages show the message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        self.messages = [message]


class ServiceUnavailable(Exception):
    """A service the request needs (the task queue, the database) is down: 503, nothing was started.

    Raised after the work that could not be queued was marked failed, so the user can simply retry.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        self.messages = [message]


class NotFound(Exception):
    """The object does not exist or is outside the actor's scope (the two are not told apart).

    Raised by services; the API answers 404 (cpd.api.exception_handler) and pages show the 404 page
    (cpd.middleware.DomainErrorMiddleware), so services need not know about HTTP.
    """
