"""default route per tenant; incidents.delivery_warning

Every tenant gets exactly one default route (the `is_default` routing rule: matches anything, goes
last; new channels join it). For existing tenants:
- a tenant with several enabled `is_default` rules keeps the first (position, created_at, id) as
  its default route; the others never matched (the first shadowed them), so they become ordinary
  rules, disabled — nothing changes in what pages whom;
- a tenant without one gets an empty, enabled "Default route" (no escalation policy = owners and
  admins, as before);
- channels that no routing rule and no escalation policy references (they received nothing) join
  the default route; channels already used somewhere keep their routing.

Revision ID: 0032_default_route
Revises: 0030_incidents
"""
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from xinex.kit.types import UTCDateTimeType

from alembic import op

revision = '0032_default_route'
down_revision = '0030_incidents'
branch_labels = None
depends_on = '0031_notify'

UTC_TIME = UTCDateTimeType(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
rules = sa.table('alert_routing_rules', sa.column('id', sa.Uuid()), sa.column('tenant_id', sa.Uuid()),
                 sa.column('name', sa.String()), sa.column('position', sa.Integer()),
                 sa.column('enabled', sa.Boolean()), sa.column('is_default', sa.Boolean()),
                 sa.column('source_ids', JSON), sa.column('tags', JSON), sa.column('severities', JSON),
                 sa.column('channel_ids', JSON), sa.column('auto_resolve', sa.Boolean()),
                 sa.column('created_at', UTC_TIME), sa.column('updated_at', UTC_TIME))
tenants = sa.table('tenants', sa.column('id', sa.Uuid()))
channels = sa.table('notification_channels', sa.column('id', sa.Uuid()), sa.column('tenant_id', sa.Uuid()),
                    sa.column('created_at', UTC_TIME))
policies = sa.table('escalation_policies', sa.column('tenant_id', sa.Uuid()), sa.column('steps', JSON))


def _data() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        # Row-level security: this data step works across tenants (transaction-local).
        bind.execute(sa.text("SELECT set_config('xinex.system', 'on', true)"))
    now = datetime.now(UTC)
    default_of: dict = {}
    rows = bind.execute(sa.select(rules.c.id, rules.c.tenant_id, rules.c.enabled, rules.c.channel_ids)
                        .where(rules.c.is_default.is_(True))
                        .order_by(rules.c.tenant_id, sa.desc(rules.c.enabled), rules.c.position,
                                  rules.c.created_at, rules.c.id)).all()
    for rule_id, tenant_id, enabled, channel_ids in rows:
        if tenant_id not in default_of:
            default_of[tenant_id] = (rule_id, list(channel_ids or []))
            continue
        bind.execute(rules.update().where(rules.c.id == rule_id).values(is_default=False, enabled=False,
                                                                         updated_at=now))
    for (tenant_id,) in bind.execute(sa.select(tenants.c.id)).all():
        if tenant_id in default_of:
            continue
        rule_id = uuid.uuid4()
        bind.execute(rules.insert().values(
            id=rule_id, tenant_id=tenant_id, name='Default route', position=0, enabled=True, is_default=True,
            source_ids=[], tags=[], severities=[], channel_ids=[], auto_resolve=True, created_at=now, updated_at=now))
        default_of[tenant_id] = (rule_id, [])
    used: set[str] = set()
    for (channel_ids,) in bind.execute(sa.select(rules.c.channel_ids).where(rules.c.is_default.is_(False))).all():
        used.update(str(c) for c in channel_ids or [])
    for (steps,) in bind.execute(sa.select(policies.c.steps)).all():
        for step in steps or []:
            used.update(str(t.get('id')) for t in step.get('targets') or [] if t.get('type') == 'channel')
    joining: dict = {}
    for channel_id, tenant_id in bind.execute(sa.select(channels.c.id, channels.c.tenant_id)
                                              .order_by(channels.c.created_at, channels.c.id)).all():
        if str(channel_id) not in used:
            joining.setdefault(tenant_id, []).append(str(channel_id))
    for tenant_id, ids in joining.items():
        rule_id, current = default_of[tenant_id]
        merged = current + [i for i in ids if i not in {str(c) for c in current}]
        bind.execute(rules.update().where(rules.c.id == rule_id).values(channel_ids=merged, updated_at=now))
    if bind.dialect.name == 'postgresql':
        bind.execute(sa.text("SELECT set_config('xinex.system', '', true)"))


def upgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('delivery_warning', sa.String(length=1000), nullable=True))
    _data()
    op.create_index('uq_alert_routing_rules_default_route', 'alert_routing_rules', ['tenant_id'], unique=True,
                    postgresql_where=sa.text('is_default'), sqlite_where=sa.text('is_default'))


def downgrade() -> None:
    op.drop_index('uq_alert_routing_rules_default_route', table_name='alert_routing_rules')
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('delivery_warning')
