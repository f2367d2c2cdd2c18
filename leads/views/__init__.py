from leads.views import imports

__all__ = ["imports"]
