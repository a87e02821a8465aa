from modelplaza.db.session import Database

__all__ = ["Database"]
