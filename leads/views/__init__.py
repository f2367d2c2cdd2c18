from leads.views.home import home

__all__ = ["home"]
