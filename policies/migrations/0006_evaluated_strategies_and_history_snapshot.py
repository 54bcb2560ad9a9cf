"""Evaluation runs, read by strategy.

- A run knows the moment it evaluated (`as_of`) and its `stage` as columns, not only inside its
  request document.
- Each run indexes the strategies it evaluated (`EvaluatedStrategy`).
- A run keeps copies of the history entries it was evaluated against (`history_snapshot`).

Runs recorded before this migration take `as_of` and `stage` from their request (`as_of`
defaults to when the run was recorded, as evaluation did), and are indexed from their request
(the strategies with metrics) and result (every strategy it reports). Their history copies are
unknown: `history_snapshot` stays null ("not recorded").
"""

import django.db.models.deletion
from django.db import migrations, models
from django.utils.dateparse import parse_datetime

BATCH = 500


def _requested_as_of(request):
    text = request.get("as_of")
    moment = parse_datetime(text) if isinstance(text, str) else None
    return moment if moment is not None and moment.tzinfo is not None else None


def _evaluated_strategy_ids(run):
    metrics = (run.request or {}).get("metrics") or {}
    reported = (run.result or {}).get("strategies") or {}
    return sorted(set(metrics) | set(reported))


def fill_recorded_runs(apps, schema_editor):
    EvaluationRun = apps.get_model("policies", "EvaluationRun")
    EvaluatedStrategy = apps.get_model("policies", "EvaluatedStrategy")
    rows = []
    for run in EvaluationRun.objects.order_by("id").iterator(chunk_size=BATCH):
        request = run.request or {}
        run.as_of = _requested_as_of(request) or run.created_at
        stage = request.get("stage")
        run.stage = stage if isinstance(stage, str) else None
        run.save(update_fields=["as_of", "stage"])
        rows.extend(
            EvaluatedStrategy(run_id=run.pk, world_id=run.world_id, strategy_id=strategy_id)
            for strategy_id in _evaluated_strategy_ids(run)
        )
        if len(rows) >= BATCH * 20:
            EvaluatedStrategy.objects.bulk_create(rows, batch_size=BATCH)
            rows = []
    EvaluatedStrategy.objects.bulk_create(rows, batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0005_policy_version_preset_fields"),
        ("worlds", "0003_world_approver_permission"),
    ]

    operations = [
        migrations.AddField(
            model_name="evaluationrun",
            name="as_of",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="evaluationrun",
            name="stage",
            field=models.CharField(
                blank=True, help_text="The request's `stage`, as sent.", max_length=32, null=True
            ),
        ),
        migrations.AddField(
            model_name="evaluationrun",
            name="history_snapshot",
            field=models.JSONField(
                blank=True,
                help_text="By strategy evaluated: a copy of the data-history entry it was "
                "evaluated against (strategies without one are left out), taken when the run "
                "was carried out. Null for runs not carried out, and for runs carried out "
                "before copies were kept.",
                null=True,
            ),
        ),
        migrations.CreateModel(
            name="EvaluatedStrategy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("strategy_id", models.CharField(max_length=128)),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="evaluated",
                        to="policies.evaluationrun",
                    ),
                ),
                (
                    "world",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="worlds.world",
                    ),
                ),
            ],
            options={
                "ordering": ["run_id", "strategy_id"],
                "indexes": [
                    models.Index(
                        fields=["world", "strategy_id", "run"], name="evaluated_by_strategy"
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("run", "strategy_id"), name="evaluated_strategy_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(fill_recorded_runs, migrations.RunPython.noop),
    ]
