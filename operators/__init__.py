"""Operators. Every one that talks to the Manager derives from `online.OnlineOperator`."""

from . import connection, jobs, paths, presets, results, settings, submit, workflow

classes = (*connection.classes, *settings.classes, *submit.classes, *paths.classes, *jobs.classes,
           *jobs.doctor_classes, *results.classes, *presets.classes, *workflow.classes)
