"""Operators. Every one that talks to the Manager derives from `online.OnlineOperator`."""

from . import connection, settings, submit

classes = (*connection.classes, *settings.classes, *submit.classes)
