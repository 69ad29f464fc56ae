#!/usr/bin/env python3
"""sumo/generate.py: writes the Sumo Logic content in this folder from one list of searches.

    python3 sumo/generate.py            # rewrites sumo/*.json

The dashboard, the saved searches and the field extraction rule are generated so that a panel and
its saved search can never differ. tests/test_sumo_content.cpp checks every query in the written
files against real lines (`[content]`). Formats: see sumo/README.md ("What each format is based on").
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CATEGORY = "_sourceCategory=webhook/ilert"
VARS = ["source", "policy", "priority", "eventType"]

# The common head of every event panel: parse, name the dimensions, apply the variables.
HEAD = "\n".join([
    CATEGORY,
    '| json field=_raw "dedupId", "eventType", "id" as dedupId, eventType, id',
    '| json field=_raw "alertSource.name", "escalationPolicy.name", "priority" as source, policy, priority nodrop',
    '| if(isBlank(source), "(none)", source) as source',
    '| if(isBlank(policy), "(none)", policy) as policy',
    '| if(isBlank(priority), "(none)", priority) as priority',
    '| where source matches "{{source}}" and policy matches "{{policy}}"'
    ' and priority matches "{{priority}}" and eventType matches "{{eventType}}"',
])


def q(*stages):
    return HEAD + "\n" + "\n".join(stages)


def mtta(by):
    return q('| where eventType = "alert-acknowledged"',
             '| json field=_raw "ttaMs" as ttaMs nodrop',
             '| where !isNull(ttaMs)',
             '| count as copies by dedupId, id, %s, ttaMs' % by,
             '| min(ttaMs) as tta by id, %s' % by,
             '| tta / 1000 as tta_s',
             '| avg(tta_s) as mtta_s, pct(tta_s, 90) as p90_tta_s, count as accepted by %s' % by,
             '| sort by %s asc' % by)


def mttr(by):
    return q('| where eventType in ("alert-resolved", "alert-auto-resolved")',
             '| json field=_raw "ttrMs" as ttrMs nodrop',
             '| where !isNull(ttrMs)',
             '| count as copies by dedupId, id, %s, ttrMs' % by,
             '| max(ttrMs) as ttr by id, %s' % by,
             '| ttr / 1000 as ttr_s',
             '| avg(ttr_s) as mttr_s, pct(ttr_s, 90) as p90_ttr_s, count as resolved by %s' % by,
             '| sort by %s asc' % by)


def created(by):
    return q('| where eventType = "alert-created"',
             '| count as copies by dedupId, id, %s' % by,
             '| count_distinct(id) as created by %s' % by,
             '| sort by %s asc' % by)


# (key, title, description, visual mode, [queries])
PANELS = [
    ("panelLifecycleOverTime", "Alerts created, accepted, resolved over time",
     "Events per hour after dropping duplicate deliveries (same dedupId).", "timeSeries",
     [q('| where eventType in ("alert-created", "alert-acknowledged", "alert-resolved", "alert-auto-resolved")',
        '| timeslice 1h',
        '| count as copies by dedupId, _timeslice, eventType',
        '| count as events by _timeslice, eventType',
        '| transpose row _timeslice column eventType')]),
    ("panelMttaOverTime", "MTTA over time (mean, p90; seconds)",
     "Per alert the first accept (smallest ttaMs), then mean and 90th percentile per hour.", "timeSeries",
     [q('| where eventType = "alert-acknowledged"',
        '| json field=_raw "ttaMs" as ttaMs nodrop',
        '| where !isNull(ttaMs)',
        '| timeslice 1h',
        '| count as copies by dedupId, id, _timeslice, ttaMs',
        '| min(ttaMs) as tta by id, _timeslice',
        '| tta / 1000 as tta_s',
        '| avg(tta_s) as mtta_s, pct(tta_s, 90) as p90_tta_s by _timeslice',
        '| sort by _timeslice asc')]),
    ("panelMttrOverTime", "MTTR over time (mean, p90; seconds)",
     "Per alert its resolve (largest ttrMs: the final one), then mean and 90th percentile per hour.",
     "timeSeries",
     [q('| where eventType in ("alert-resolved", "alert-auto-resolved")',
        '| json field=_raw "ttrMs" as ttrMs nodrop',
        '| where !isNull(ttrMs)',
        '| timeslice 1h',
        '| count as copies by dedupId, id, _timeslice, ttrMs',
        '| max(ttrMs) as ttr by id, _timeslice',
        '| ttr / 1000 as ttr_s',
        '| avg(ttr_s) as mttr_s, pct(ttr_s, 90) as p90_ttr_s by _timeslice',
        '| sort by _timeslice asc')]),
    ("panelBySource", "Created, MTTA and MTTR by alert source", "", "table",
     [created("source"), mtta("source"), mttr("source")]),
    ("panelByPolicy", "Created, MTTA and MTTR by escalation policy", "", "table",
     [created("policy"), mtta("policy"), mttr("policy")]),
    ("panelByPriority", "Created, MTTA and MTTR by priority", "", "table",
     [created("priority"), mtta("priority"), mttr("priority")]),
    ("panelOpenNow", "Open alerts now (latest line per alert id is not a resolve)",
     "key = time*10 + resolved, so the largest key per id is its latest line.", "table",
     [q('| if(eventType in ("alert-resolved", "alert-auto-resolved"), 1, 0) as resolved',
        '| count as copies by dedupId, id, source, policy, priority, _messagetime, resolved',
        '| _messagetime * 10 + resolved as key',
        '| max(key) as key by id, source, policy, priority',
        '| key - floor(key / 10) * 10 as latest_resolved',
        '| where latest_resolved = 0',
        '| count as open_alerts by source, policy, priority',
        '| sort by open_alerts desc')]),
    ("panelEscalations", "Escalations per alert", "alert-auto-escalated events per alert id.", "table",
     [q('| where eventType = "alert-auto-escalated"',
        '| count as copies by dedupId, id, source, policy',
        '| count as escalations by id, source, policy',
        '| sort by escalations desc',
        '| limit 50')]),
    ("panelEscalationEnded", "Escalation ended and not resolved",
     "alert-escalation-ended (nobody accepted) and v-alert-not-resolved alerts.", "table",
     [q('| where eventType in ("alert-escalation-ended", "v-alert-not-resolved")',
        '| json field=_raw "summary" as summary nodrop',
        '| count as copies by dedupId, id, eventType, source, policy, priority, summary',
        '| count as events by id, eventType, source, policy, priority, summary',
        '| sort by id asc')]),
    ("panelAutoResolvedShare", "Auto-resolved share of resolves (%)", "", "singleValue",
     [q('| where eventType in ("alert-resolved", "alert-auto-resolved")',
        '| count as copies by dedupId, eventType',
        '| if(eventType = "alert-auto-resolved", 1, 0) as auto',
        '| sum(auto) as auto_resolved, count as resolves',
        '| auto_resolved * 100 / resolves as auto_resolved_pct',
        '| fields auto_resolved_pct, auto_resolved, resolves')]),
    ("panelTopResponders", "Top responders (accept events listing them)", "", "table",
     [q('| where eventType = "alert-acknowledged"',
        '| json field=_raw "responders" as responders nodrop',
        '| parse regex field=responders "\\"username\\":\\"(?<responder>[^\\"]+)\\"" multi',
        '| count as copies by dedupId, id, responder',
        '| count as accepts by responder',
        '| sort by accepts desc',
        '| limit 10')]),
    ("panelInvalidPayloads", "Invalid payloads by error.code",
     "Lines made from bodies the parser rejected. They carry no dedupId (no parsed content); a re-delivered copy is byte-identical, so they are de-duplicated by receivedAt, code and message.",
     "table",
     ["\n".join([CATEGORY,
                 '| json field=_raw "eventType", "error.code", "error.message", "receivedAt" as eventType, code, message, receivedAt',
                 '| where eventType = "ilert-sumo-invalid-payload"',
                 '| count as copies by receivedAt, code, message',
                 '| count as invalid_payloads by code',
                 '| sort by invalid_payloads desc'])]),
]

VARIABLE_QUERIES = {
    "source": (CATEGORY + '\n| json field=_raw "alertSource.name" as source\n| count by source', "source"),
    "policy": (CATEGORY + '\n| json field=_raw "escalationPolicy.name" as policy\n| count by policy', "policy"),
    "priority": (CATEGORY + '\n| json field=_raw "priority" as priority\n| count by priority', "priority"),
    "eventType": (CATEGORY + '\n| json field=_raw "eventType" as eventType\n| count by eventType', "eventType"),
}

VISUAL = {
    "timeSeries": {"general": {"mode": "timeSeries", "type": "line"}},
    "table": {"general": {"mode": "distribution", "type": "table"}},
    "singleValue": {"general": {"mode": "singleValueMetrics", "type": "svp"}},
}

LAST_7D = {"type": "BeginBoundedTimeRange",
           "from": {"type": "RelativeTimeRangeBoundary", "relativeTime": "-7d"}, "to": None}


def dashboard():
    layout, panels = [], []
    for i, (key, title, desc, mode, queries) in enumerate(PANELS):
        layout.append({"key": key, "structure": json.dumps(
            {"height": 8, "width": 12, "x": (i % 2) * 12, "y": (i // 2) * 8}, separators=(",", ":"))})
        panels.append({
            "id": None, "key": key, "title": title,
            "visualSettings": json.dumps(VISUAL[mode], separators=(",", ":")),
            "keepVisualSettingsConsistentWithParent": True,
            "panelType": "SumoSearchPanel",
            "queries": [{"queryString": qs, "queryType": "Logs", "queryKey": chr(ord("A") + n),
                         "metricsQueryMode": None, "metricsQueryData": None, "tracesQueryData": None,
                         "parseMode": "Manual", "timeSource": "Message"}
                        for n, qs in enumerate(queries)],
            "description": desc, "timeRange": None, "coloringRules": None, "linkedDashboards": []})
    variables = [{"id": None, "name": v, "displayName": v, "defaultValue": "*",
                  "sourceDefinition": {"variableSourceType": "LogQueryVariableSourceDefinition",
                                       "query": VARIABLE_QUERIES[v][0], "field": VARIABLE_QUERIES[v][1]},
                  "allowMultiSelect": False, "includeAllOption": True, "hideFromUI": False,
                  "valueType": "Any"} for v in VARS]
    return {"type": "DashboardV2SyncDefinition", "name": "iLert alert lifecycle",
            "description": "Alert volume, MTTA and MTTR (mean, p90) by alert source, escalation policy "
                           "and priority from ilert-sumo lines; every panel drops duplicate deliveries.",
            "title": "iLert alert lifecycle", "rootPanel": None, "theme": "Light",
            "topologyLabelMap": {"data": {}}, "refreshInterval": 0, "timeRange": LAST_7D,
            "layout": {"layoutType": "Grid", "layoutStructures": layout},
            "panels": panels, "variables": variables, "coloringRules": []}


def saved_searches():
    children = []
    for key, title, desc, _mode, queries in PANELS:
        for n, qs in enumerate(queries):
            for v in VARS:
                qs = qs.replace('"{{%s}}"' % v, '"*"')
            name = title if len(queries) == 1 else "%s (%s)" % (title, ["created", "MTTA", "MTTR"][n])
            children.append({"type": "SavedSearchWithScheduleSyncDefinition", "name": "iLert: " + name,
                             "description": desc,
                             "search": {"queryText": qs, "defaultTimeRange": "-7d", "byReceiptTime": False,
                                        "viewName": "", "viewStartTime": "1970-01-01T00:00:00Z",
                                        "queryParameters": [], "parsingMode": "Manual"},
                             "searchSchedule": None})
    return {"type": "FolderSyncDefinition", "name": "iLert alert lifecycle searches",
            "description": "The dashboard's searches, without variables.", "children": children}


def fer():
    parse = "\n".join([
        'json field=_raw "eventType", "id", "time", "priority", "alertSource.name", "escalationPolicy.name", "dedupId" as alert_type, alert_id, datetime, priority, service, team, dedup_id nodrop',
        '| where alert_type in ("alert-created", "alert-resolved", "alert-auto-resolved")',
        '| parseDate(datetime, "yyyy-MM-dd\'T\'HH:mm:ss.SSS\'Z\'", "etc/utc") as datetime_epoch',
        '| if(alert_type = "alert-created", 0, datetime_epoch) as closeddate_epoch',
        '| toLong(closeddate_epoch) as closeddate_epoch',
        '| if(alert_type = "alert-created", "alert_created", "alert_closed") as event_type',
        '| if(priority = "HIGH", "high", if(priority = "LOW", "low", "other")) as priority',
        '| if(isBlank(service), "n/a", service) as service',
        '| if(isBlank(team), "n/a", team) as team',
        '| "n/a" as link',
    ])
    return {"name": "iLert alerts (Software Development Optimization)",
            "scope": CATEGORY + ' ("alert-created" or "alert-resolved" or "alert-auto-resolved")',
            "parseExpression": parse, "enabled": True}


def write(name, obj):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    write("ilert-alert-lifecycle.dashboard.json", dashboard())
    write("ilert-alert-lifecycle.searches.json", saved_searches())
    write("ilert-sdo-alerts.fer.json", fer())
