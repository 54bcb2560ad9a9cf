"""Every run has its `as_of` now (0006 filled it in); new runs set it when recorded.

A migration of its own: on PostgreSQL the table cannot be altered in the transaction that just
rewrote its rows.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("policies", "0006_evaluated_strategies_and_history_snapshot")]

    operations = [
        migrations.AlterField(
            model_name="evaluationrun",
            name="as_of",
            field=models.DateTimeField(
                help_text="The moment evaluated: the request's `as_of`, else when the run was "
                "recorded."
            ),
        ),
    ]
