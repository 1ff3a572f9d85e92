"""JO6xx: limits and guardrails, with AJO's numbers (SPEC §6.1, §6.4, §9; reference/ajo-*.md).

Limits the JSON Schemas already enforce get no rule here: at most 5
`update-profile` fields (`maxProperties`, JO205) and 1 to 5 quiet-hours
windows (`maxItems`, JO205).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from jo_cli.durations import format_duration, parse_duration
from jo_cli.findings import Finding
from jo_cli.loader import Document, JsonPath
from jo_cli.rules.base import Rule, RuleContext, rule

MAX_STEPS = 50
MAX_WAIT = dt.timedelta(days=90)
MIN_REACTION_TIMEOUT = dt.timedelta(seconds=40)
MAX_ACTIVITIES = 500
MAX_CHANNEL_ACTIVITIES = 10
CHANNEL_ACTIVITY_TYPES = frozenset({"email", "sms", "push"})


@rule("JO601", "too-many-steps", "error")
def check_step_count(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A journey has more than 50 steps.

    AJO allows at most 50 activities per journey and the limit cannot be
    raised (guardrails, "Exact numbers" #1). Every step under `steps`
    counts, `type: end` steps included. Split the journey and link the parts
    with a `jump` step. The finding points at the 51st step.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: s1}
        steps:
          s1: {type: wait, duration: PT1H, next: s2}
          s2: {type: wait, duration: PT1H, next: s3}
          s3: {type: wait, duration: PT1H, next: s4}
          s4: {type: wait, duration: PT1H, next: s5}
          s5: {type: wait, duration: PT1H, next: s6}
          s6: {type: wait, duration: PT1H, next: s7}
          s7: {type: wait, duration: PT1H, next: s8}
          s8: {type: wait, duration: PT1H, next: s9}
          s9: {type: wait, duration: PT1H, next: s10}
          s10: {type: wait, duration: PT1H, next: s11}
          s11: {type: wait, duration: PT1H, next: s12}
          s12: {type: wait, duration: PT1H, next: s13}
          s13: {type: wait, duration: PT1H, next: s14}
          s14: {type: wait, duration: PT1H, next: s15}
          s15: {type: wait, duration: PT1H, next: s16}
          s16: {type: wait, duration: PT1H, next: s17}
          s17: {type: wait, duration: PT1H, next: s18}
          s18: {type: wait, duration: PT1H, next: s19}
          s19: {type: wait, duration: PT1H, next: s20}
          s20: {type: wait, duration: PT1H, next: s21}
          s21: {type: wait, duration: PT1H, next: s22}
          s22: {type: wait, duration: PT1H, next: s23}
          s23: {type: wait, duration: PT1H, next: s24}
          s24: {type: wait, duration: PT1H, next: s25}
          s25: {type: wait, duration: PT1H, next: s26}
          s26: {type: wait, duration: PT1H, next: s27}
          s27: {type: wait, duration: PT1H, next: s28}
          s28: {type: wait, duration: PT1H, next: s29}
          s29: {type: wait, duration: PT1H, next: s30}
          s30: {type: wait, duration: PT1H, next: s31}
          s31: {type: wait, duration: PT1H, next: s32}
          s32: {type: wait, duration: PT1H, next: s33}
          s33: {type: wait, duration: PT1H, next: s34}
          s34: {type: wait, duration: PT1H, next: s35}
          s35: {type: wait, duration: PT1H, next: s36}
          s36: {type: wait, duration: PT1H, next: s37}
          s37: {type: wait, duration: PT1H, next: s38}
          s38: {type: wait, duration: PT1H, next: s39}
          s39: {type: wait, duration: PT1H, next: s40}
          s40: {type: wait, duration: PT1H, next: s41}
          s41: {type: wait, duration: PT1H, next: s42}
          s42: {type: wait, duration: PT1H, next: s43}
          s43: {type: wait, duration: PT1H, next: s44}
          s44: {type: wait, duration: PT1H, next: s45}
          s45: {type: wait, duration: PT1H, next: s46}
          s46: {type: wait, duration: PT1H, next: s47}
          s47: {type: wait, duration: PT1H, next: s48}
          s48: {type: wait, duration: PT1H, next: s49}
          s49: {type: wait, duration: PT1H, next: s50}
          s50: {type: wait, duration: PT1H, next: s51}
          s51: {type: wait, duration: PT1H, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: s1}
        steps:
          s1: {type: wait, duration: PT1H, next: part-two}
          part-two: {type: jump, journey: welcome-part-two, next: end}
    """
    if context.kind != "journey" or not isinstance(doc.data, dict):
        return
    steps = doc.data.get("steps")
    if isinstance(steps, dict) and len(steps) > MAX_STEPS:
        over = list(steps)[MAX_STEPS]
        yield check_step_count.finding(
            doc, doc.locate(("steps", over), key=True),
            f"journey has {len(steps)} steps; AJO allows at most {MAX_STEPS} (`{over}` is step {MAX_STEPS + 1})",
            hint="split the journey and link the parts with a `jump` step")


@rule("JO602", "wait-too-long", "error")
def check_wait_duration(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A `wait` step's `duration` is longer than P90D.

    AJO's Wait activity lasts at most 90 days (guardrails, "Exact numbers" #9),
    and an instance lives at most P91D after it entered (SPEC §6.1).

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: pause}
        steps:
          pause: {type: wait, duration: P91D, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: pause}
        steps:
          pause: {type: wait, duration: P90D, next: end}
    """
    for path, value in _step_fields(doc, context, "wait", "duration"):
        if value > MAX_WAIT:
            yield _too_long(check_wait_duration, doc, path, "wait `duration`", value)


@rule("JO603", "event-timeout-too-long", "error")
def check_event_timeout(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A `wait-event` step's `timeout` is longer than P90D.

    AJO's event activity times out after at most 90 days (general-events,
    "Exact numbers" #13). Without `timeout` the instance waits until its P91D
    limit.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: await-order}
        steps:
          await-order: {type: wait-event, event: order_placed, timeout: P13W, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: await-order}
        steps:
          await-order: {type: wait-event, event: order_placed, timeout: P12W, next: end}
    """
    for path, value in _step_fields(doc, context, "wait-event", "timeout"):
        if value > MAX_WAIT:
            yield _too_long(check_event_timeout, doc, path, "wait-event `timeout`", value)


@rule("JO604", "reaction-timeout-range", "error")
def check_reaction_timeout(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A `reaction` step's `timeout` is shorter than PT40S or longer than P90D.

    AJO's Reaction activity accepts a timeout from 40 seconds to 90 days
    (reaction-events, "Exact numbers" #14).

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: email, content: {subject: Hi, body: Hello}, next: opened}
          opened: {type: reaction, to: hello, on: opened, timeout: PT30S, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: email, content: {subject: Hi, body: Hello}, next: opened}
          opened: {type: reaction, to: hello, on: opened, timeout: P3D, next: end}
    """
    for path, value in _step_fields(doc, context, "reaction", "timeout"):
        if value > MAX_WAIT:
            yield _too_long(check_reaction_timeout, doc, path, "reaction `timeout`", value)
        elif value < MIN_REACTION_TIMEOUT:
            yield check_reaction_timeout.finding(
                doc, doc.locate(path),
                f"reaction `timeout` is {_spell(doc, path, value)}; AJO allows at least "
                f"{format_duration(MIN_REACTION_TIMEOUT)}")


@rule("JO605", "reentrance-wait-too-long", "error")
def check_reentrance_wait(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """The journey's re-entrance `wait` is longer than P90D.

    AJO's re-entrance wait period is at most 90 days (journey-properties,
    "Exact numbers" #4). To keep a profile out for longer, set
    `reentrance: {allowed: false}`.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        settings: {reentrance: {allowed: true, wait: P180D}}
        steps: {}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        settings: {reentrance: {allowed: true, wait: P30D}}
        steps: {}
    """
    if context.kind != "journey" or not isinstance(doc.data, dict):
        return
    settings = doc.data.get("settings")
    reentrance = settings.get("reentrance") if isinstance(settings, dict) else None
    value = parse_duration(reentrance.get("wait")) if isinstance(reentrance, dict) else None
    if value is not None and value > MAX_WAIT:
        yield _too_long(check_reentrance_wait, doc, ("settings", "reentrance", "wait"), "re-entrance `wait`", value,
                        hint="to let a profile enter only once, use `reentrance: {allowed: false}`")


@rule("JO606", "too-many-activities", "error", example_path="campaigns/example.yaml")
def check_activity_count(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A campaign has more than 500 activities.

    AJO allows at most 500 activities on an orchestrated campaign's canvas
    and advises staying under 100 (orchestrated guardrails, "Exact numbers"
    #11). The finding points at the 501st activity.

    Fails:
        kind: campaign
        id: spring-sale
        activities: {
            e001: {type: end}, e002: {type: end}, e003: {type: end}, e004: {type: end}, e005: {type: end},
            e006: {type: end}, e007: {type: end}, e008: {type: end}, e009: {type: end}, e010: {type: end},
            e011: {type: end}, e012: {type: end}, e013: {type: end}, e014: {type: end}, e015: {type: end},
            e016: {type: end}, e017: {type: end}, e018: {type: end}, e019: {type: end}, e020: {type: end},
            e021: {type: end}, e022: {type: end}, e023: {type: end}, e024: {type: end}, e025: {type: end},
            e026: {type: end}, e027: {type: end}, e028: {type: end}, e029: {type: end}, e030: {type: end},
            e031: {type: end}, e032: {type: end}, e033: {type: end}, e034: {type: end}, e035: {type: end},
            e036: {type: end}, e037: {type: end}, e038: {type: end}, e039: {type: end}, e040: {type: end},
            e041: {type: end}, e042: {type: end}, e043: {type: end}, e044: {type: end}, e045: {type: end},
            e046: {type: end}, e047: {type: end}, e048: {type: end}, e049: {type: end}, e050: {type: end},
            e051: {type: end}, e052: {type: end}, e053: {type: end}, e054: {type: end}, e055: {type: end},
            e056: {type: end}, e057: {type: end}, e058: {type: end}, e059: {type: end}, e060: {type: end},
            e061: {type: end}, e062: {type: end}, e063: {type: end}, e064: {type: end}, e065: {type: end},
            e066: {type: end}, e067: {type: end}, e068: {type: end}, e069: {type: end}, e070: {type: end},
            e071: {type: end}, e072: {type: end}, e073: {type: end}, e074: {type: end}, e075: {type: end},
            e076: {type: end}, e077: {type: end}, e078: {type: end}, e079: {type: end}, e080: {type: end},
            e081: {type: end}, e082: {type: end}, e083: {type: end}, e084: {type: end}, e085: {type: end},
            e086: {type: end}, e087: {type: end}, e088: {type: end}, e089: {type: end}, e090: {type: end},
            e091: {type: end}, e092: {type: end}, e093: {type: end}, e094: {type: end}, e095: {type: end},
            e096: {type: end}, e097: {type: end}, e098: {type: end}, e099: {type: end}, e100: {type: end},
            e101: {type: end}, e102: {type: end}, e103: {type: end}, e104: {type: end}, e105: {type: end},
            e106: {type: end}, e107: {type: end}, e108: {type: end}, e109: {type: end}, e110: {type: end},
            e111: {type: end}, e112: {type: end}, e113: {type: end}, e114: {type: end}, e115: {type: end},
            e116: {type: end}, e117: {type: end}, e118: {type: end}, e119: {type: end}, e120: {type: end},
            e121: {type: end}, e122: {type: end}, e123: {type: end}, e124: {type: end}, e125: {type: end},
            e126: {type: end}, e127: {type: end}, e128: {type: end}, e129: {type: end}, e130: {type: end},
            e131: {type: end}, e132: {type: end}, e133: {type: end}, e134: {type: end}, e135: {type: end},
            e136: {type: end}, e137: {type: end}, e138: {type: end}, e139: {type: end}, e140: {type: end},
            e141: {type: end}, e142: {type: end}, e143: {type: end}, e144: {type: end}, e145: {type: end},
            e146: {type: end}, e147: {type: end}, e148: {type: end}, e149: {type: end}, e150: {type: end},
            e151: {type: end}, e152: {type: end}, e153: {type: end}, e154: {type: end}, e155: {type: end},
            e156: {type: end}, e157: {type: end}, e158: {type: end}, e159: {type: end}, e160: {type: end},
            e161: {type: end}, e162: {type: end}, e163: {type: end}, e164: {type: end}, e165: {type: end},
            e166: {type: end}, e167: {type: end}, e168: {type: end}, e169: {type: end}, e170: {type: end},
            e171: {type: end}, e172: {type: end}, e173: {type: end}, e174: {type: end}, e175: {type: end},
            e176: {type: end}, e177: {type: end}, e178: {type: end}, e179: {type: end}, e180: {type: end},
            e181: {type: end}, e182: {type: end}, e183: {type: end}, e184: {type: end}, e185: {type: end},
            e186: {type: end}, e187: {type: end}, e188: {type: end}, e189: {type: end}, e190: {type: end},
            e191: {type: end}, e192: {type: end}, e193: {type: end}, e194: {type: end}, e195: {type: end},
            e196: {type: end}, e197: {type: end}, e198: {type: end}, e199: {type: end}, e200: {type: end},
            e201: {type: end}, e202: {type: end}, e203: {type: end}, e204: {type: end}, e205: {type: end},
            e206: {type: end}, e207: {type: end}, e208: {type: end}, e209: {type: end}, e210: {type: end},
            e211: {type: end}, e212: {type: end}, e213: {type: end}, e214: {type: end}, e215: {type: end},
            e216: {type: end}, e217: {type: end}, e218: {type: end}, e219: {type: end}, e220: {type: end},
            e221: {type: end}, e222: {type: end}, e223: {type: end}, e224: {type: end}, e225: {type: end},
            e226: {type: end}, e227: {type: end}, e228: {type: end}, e229: {type: end}, e230: {type: end},
            e231: {type: end}, e232: {type: end}, e233: {type: end}, e234: {type: end}, e235: {type: end},
            e236: {type: end}, e237: {type: end}, e238: {type: end}, e239: {type: end}, e240: {type: end},
            e241: {type: end}, e242: {type: end}, e243: {type: end}, e244: {type: end}, e245: {type: end},
            e246: {type: end}, e247: {type: end}, e248: {type: end}, e249: {type: end}, e250: {type: end},
            e251: {type: end}, e252: {type: end}, e253: {type: end}, e254: {type: end}, e255: {type: end},
            e256: {type: end}, e257: {type: end}, e258: {type: end}, e259: {type: end}, e260: {type: end},
            e261: {type: end}, e262: {type: end}, e263: {type: end}, e264: {type: end}, e265: {type: end},
            e266: {type: end}, e267: {type: end}, e268: {type: end}, e269: {type: end}, e270: {type: end},
            e271: {type: end}, e272: {type: end}, e273: {type: end}, e274: {type: end}, e275: {type: end},
            e276: {type: end}, e277: {type: end}, e278: {type: end}, e279: {type: end}, e280: {type: end},
            e281: {type: end}, e282: {type: end}, e283: {type: end}, e284: {type: end}, e285: {type: end},
            e286: {type: end}, e287: {type: end}, e288: {type: end}, e289: {type: end}, e290: {type: end},
            e291: {type: end}, e292: {type: end}, e293: {type: end}, e294: {type: end}, e295: {type: end},
            e296: {type: end}, e297: {type: end}, e298: {type: end}, e299: {type: end}, e300: {type: end},
            e301: {type: end}, e302: {type: end}, e303: {type: end}, e304: {type: end}, e305: {type: end},
            e306: {type: end}, e307: {type: end}, e308: {type: end}, e309: {type: end}, e310: {type: end},
            e311: {type: end}, e312: {type: end}, e313: {type: end}, e314: {type: end}, e315: {type: end},
            e316: {type: end}, e317: {type: end}, e318: {type: end}, e319: {type: end}, e320: {type: end},
            e321: {type: end}, e322: {type: end}, e323: {type: end}, e324: {type: end}, e325: {type: end},
            e326: {type: end}, e327: {type: end}, e328: {type: end}, e329: {type: end}, e330: {type: end},
            e331: {type: end}, e332: {type: end}, e333: {type: end}, e334: {type: end}, e335: {type: end},
            e336: {type: end}, e337: {type: end}, e338: {type: end}, e339: {type: end}, e340: {type: end},
            e341: {type: end}, e342: {type: end}, e343: {type: end}, e344: {type: end}, e345: {type: end},
            e346: {type: end}, e347: {type: end}, e348: {type: end}, e349: {type: end}, e350: {type: end},
            e351: {type: end}, e352: {type: end}, e353: {type: end}, e354: {type: end}, e355: {type: end},
            e356: {type: end}, e357: {type: end}, e358: {type: end}, e359: {type: end}, e360: {type: end},
            e361: {type: end}, e362: {type: end}, e363: {type: end}, e364: {type: end}, e365: {type: end},
            e366: {type: end}, e367: {type: end}, e368: {type: end}, e369: {type: end}, e370: {type: end},
            e371: {type: end}, e372: {type: end}, e373: {type: end}, e374: {type: end}, e375: {type: end},
            e376: {type: end}, e377: {type: end}, e378: {type: end}, e379: {type: end}, e380: {type: end},
            e381: {type: end}, e382: {type: end}, e383: {type: end}, e384: {type: end}, e385: {type: end},
            e386: {type: end}, e387: {type: end}, e388: {type: end}, e389: {type: end}, e390: {type: end},
            e391: {type: end}, e392: {type: end}, e393: {type: end}, e394: {type: end}, e395: {type: end},
            e396: {type: end}, e397: {type: end}, e398: {type: end}, e399: {type: end}, e400: {type: end},
            e401: {type: end}, e402: {type: end}, e403: {type: end}, e404: {type: end}, e405: {type: end},
            e406: {type: end}, e407: {type: end}, e408: {type: end}, e409: {type: end}, e410: {type: end},
            e411: {type: end}, e412: {type: end}, e413: {type: end}, e414: {type: end}, e415: {type: end},
            e416: {type: end}, e417: {type: end}, e418: {type: end}, e419: {type: end}, e420: {type: end},
            e421: {type: end}, e422: {type: end}, e423: {type: end}, e424: {type: end}, e425: {type: end},
            e426: {type: end}, e427: {type: end}, e428: {type: end}, e429: {type: end}, e430: {type: end},
            e431: {type: end}, e432: {type: end}, e433: {type: end}, e434: {type: end}, e435: {type: end},
            e436: {type: end}, e437: {type: end}, e438: {type: end}, e439: {type: end}, e440: {type: end},
            e441: {type: end}, e442: {type: end}, e443: {type: end}, e444: {type: end}, e445: {type: end},
            e446: {type: end}, e447: {type: end}, e448: {type: end}, e449: {type: end}, e450: {type: end},
            e451: {type: end}, e452: {type: end}, e453: {type: end}, e454: {type: end}, e455: {type: end},
            e456: {type: end}, e457: {type: end}, e458: {type: end}, e459: {type: end}, e460: {type: end},
            e461: {type: end}, e462: {type: end}, e463: {type: end}, e464: {type: end}, e465: {type: end},
            e466: {type: end}, e467: {type: end}, e468: {type: end}, e469: {type: end}, e470: {type: end},
            e471: {type: end}, e472: {type: end}, e473: {type: end}, e474: {type: end}, e475: {type: end},
            e476: {type: end}, e477: {type: end}, e478: {type: end}, e479: {type: end}, e480: {type: end},
            e481: {type: end}, e482: {type: end}, e483: {type: end}, e484: {type: end}, e485: {type: end},
            e486: {type: end}, e487: {type: end}, e488: {type: end}, e489: {type: end}, e490: {type: end},
            e491: {type: end}, e492: {type: end}, e493: {type: end}, e494: {type: end}, e495: {type: end},
            e496: {type: end}, e497: {type: end}, e498: {type: end}, e499: {type: end}, e500: {type: end},
            e501: {type: end}}
    Passes:
        kind: campaign
        id: spring-sale
        activities:
          gold: {type: build-audience, dimension: profiles, where: 'tier == "gold"', next: mail}
          mail: {type: email, content: {subject: Spring sale, body: Hello}}
    """
    if context.kind != "campaign" or not isinstance(doc.data, dict):
        return
    activities = doc.data.get("activities")
    if isinstance(activities, dict) and len(activities) > MAX_ACTIVITIES:
        over = list(activities)[MAX_ACTIVITIES]
        yield check_activity_count.finding(
            doc, doc.locate(("activities", over), key=True),
            f"campaign has {len(activities)} activities; AJO allows at most {MAX_ACTIVITIES} "
            f"(`{over}` is activity {MAX_ACTIVITIES + 1})",
            hint="split the campaign: one can `save-audience` and another build on it")


@rule("JO607", "too-many-channel-activities", "error", example_path="campaigns/example.yaml")
def check_channel_activity_count(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A campaign has more than 10 channel activities (email, sms, push).

    AJO allows at most 10 channel activities per orchestrated campaign;
    targeting and flow activities do not count (orchestrated guardrails,
    "Exact numbers" #12). The finding points at the 11th channel activity.

    Fails:
        kind: campaign
        id: spring-sale
        activities:
          all: {type: build-audience, dimension: profiles, where: 'true', next: fan-out}
          fan-out: {type: fork, next: [m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11]}
          m1: {type: email, content: {subject: One, body: Hello}}
          m2: {type: email, content: {subject: Two, body: Hello}}
          m3: {type: email, content: {subject: Three, body: Hello}}
          m4: {type: email, content: {subject: Four, body: Hello}}
          m5: {type: email, content: {subject: Five, body: Hello}}
          m6: {type: sms, content: {body: Six}}
          m7: {type: sms, content: {body: Seven}}
          m8: {type: sms, content: {body: Eight}}
          m9: {type: push, content: {title: Nine, body: Hello}}
          m10: {type: push, content: {title: Ten, body: Hello}}
          m11: {type: push, content: {title: Eleven, body: Hello}}
    Passes:
        kind: campaign
        id: spring-sale
        activities:
          all: {type: build-audience, dimension: profiles, where: 'true', next: fan-out}
          fan-out: {type: fork, next: [m1, m2]}
          m1: {type: email, content: {subject: One, body: Hello}}
          m2: {type: sms, content: {body: Two}}
    """
    if context.kind != "campaign" or not isinstance(doc.data, dict):
        return
    activities = doc.data.get("activities")
    if not isinstance(activities, dict):
        return
    channel = [key for key, activity in activities.items()
               if isinstance(activity, dict) and isinstance(activity.get("type"), str)
               and activity["type"] in CHANNEL_ACTIVITY_TYPES]
    if len(channel) > MAX_CHANNEL_ACTIVITIES:
        over = channel[MAX_CHANNEL_ACTIVITIES]
        yield check_channel_activity_count.finding(
            doc, doc.locate(("activities", over), key=True),
            f"campaign has {len(channel)} channel activities (email, sms, push); AJO allows at most "
            f"{MAX_CHANNEL_ACTIVITIES} (`{over}` is the {MAX_CHANNEL_ACTIVITIES + 1}th)",
            hint="send several variants from one activity with a split before it, or split the campaign")


def _step_fields(doc: Document, context: RuleContext, step_type: str,
                 field: str) -> Iterator[tuple[JsonPath, dt.timedelta]]:
    """(path, duration) of `field` in every journey step of `step_type` where it is a valid duration."""
    if context.kind != "journey" or not isinstance(doc.data, dict):
        return
    steps = doc.data.get("steps")
    if not isinstance(steps, dict):
        return
    for step_id, step in steps.items():
        if isinstance(step, dict) and step.get("type") == step_type:
            value = parse_duration(step.get(field))
            if value is not None:
                yield ("steps", step_id, field), value


def _too_long(check: Rule, doc: Document, path: JsonPath, what: str, value: dt.timedelta, *,
              hint: str | None = None) -> Finding:
    return check.finding(doc, doc.locate(path),
                         f"{what} is {_spell(doc, path, value)}; AJO allows at most {format_duration(MAX_WAIT)}",
                         hint=hint)


def _spell(doc: Document, path: JsonPath, value: dt.timedelta) -> str:
    """The duration as written, with its days when the spelling hides them (`P13W` -> `P13W (91 days)`)."""
    written: Any = doc.data
    for part in path:
        written = written[part]
    canonical = format_duration(value)
    return f"{written}" if written == canonical else f"{written} ({canonical})"
