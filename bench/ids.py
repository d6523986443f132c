"""The IDs receiving servers hand out and the final 250 reply each kind of server writes.

Reply shapes: ../shared/formats/smtp_responses.md section 2 and the ESP sample (M01, M05,
M11, M15, M18). The ESP's "Message ID" column is the ID it extracted from that reply.
"""

from __future__ import annotations

import random

import numpy as np

from . import world as W

EXCHANGE_BASE = 3083786500000  # Exchange internal-message-id of the first RECEIVE
EXO_BASE = 13915694300000
EU_PODS = ("AM9PR05", "DB9PR02", "VI1PR04", "PA4PR08", "AS8PR03", "DU0PR06")
US_PODS = ("BN0PR12", "SA1PR11", "CH3PR20", "PH0PR05", "MW4PR13")
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def postfix_qids(k: np.ndarray, salt: int) -> list[str]:
    """Short Postfix queue IDs (11 upper-case hex digits), unique for distinct k."""
    return [f"{v:011X}" for v in W.mix(k, 44, salt).tolist()]


def exo_hosts(rng: random.Random, n: int) -> list[str]:
    """Exchange Online mailbox server names as in the 250 reply's Hostname=."""
    out = []
    for _ in range(n):
        eu = rng.random() < 0.6
        pod = rng.choice(EU_PODS if eu else US_PODS)
        region = f"eurprd{pod[-2:]}" if eu else f"namprd{pod[-2:]}"
        out.append(f"{pod}MB{rng.randrange(1000, 9999)}.{region}.prod.outlook.com")
    return out


def _b62(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(B62) for _ in range(n))


def accept_replies(w: W.World, seed: int) -> None:
    """Fill w.j_rid, w.j_reply and w.j_internal for every accepted journey."""
    n = w.n()
    rng = random.Random(f"bench:{seed}:accept")
    system = w.system.tolist()
    accepted = w.j_acc >= 0
    internal = np.zeros(n, dtype=np.int64)
    rid = [""] * n
    reply = [""] * n
    ex = np.flatnonzero(accepted & (w.system == W.SYS["exchange"]))
    internal[ex] = EXCHANGE_BASE + 10 * np.arange(len(ex))
    ms = np.flatnonzero(accepted & np.isin(w.system, [W.SYS["o365"], W.SYS["exo"],
                                                      W.SYS["outlook"]]))
    internal[ms] = EXO_BASE + 17 * np.arange(len(ms)) + np.arange(len(ms)) % 7
    qids = {}
    for name, salt in (("postfix", 0x0F1), ("pfother", 0x0F2)):
        idx = np.flatnonzero(accepted & (w.system == W.SYS[name]))
        qids.update(zip(idx.tolist(), postfix_qids(np.arange(len(idx)), salt), strict=True))
    hosts = exo_hosts(rng, 400)
    secs = np.random.default_rng(seed + 1).integers(60, 260, n).tolist()
    acc_s = (w.j_acc // 1000).tolist()
    sizes = w.j_size.tolist()
    internal_l = internal.tolist()
    for j in np.flatnonzero(accepted).tolist():
        s = W.SYSTEMS[system[j]]
        size = sizes[j]
        if s in ("o365", "exo", "outlook", "exchange"):
            host = ("EXCH01.fabrikam.example.net" if s == "exchange"
                    else hosts[internal_l[j] % len(hosts)])
            sec = secs[j] / 1000
            reply[j] = (f"250 2.6.0 {w.j_msgid[j]} [InternalId={internal_l[j]}, Hostname={host}] "
                        f"{size} bytes in {sec:.3f}, {size / 1024 / sec:.3f} KB/sec Queued mail "
                        "for delivery")
            rid[j] = w.j_msgid[j]
        elif s in ("gmail", "gws"):
            from .replies import gmail_token

            rid[j] = gmail_token(rng)
            reply[j] = f"250 2.0.0 OK  {acc_s[j]} {rid[j]} - gsmtp"
        elif s in ("postfix", "pfother"):
            rid[j] = qids[j]
            style = j % 20
            reply[j] = (f"250 Ok: queued as {rid[j]}" if style == 0 else
                        f"250 2.0.0 Ok: {size + 664} bytes queued as {rid[j]}" if style < 3 else
                        f"250 2.0.0 Ok: queued as {rid[j]}")
        elif s == "exim":
            rid[j] = f"1v{_b62(rng, 4)}-{_b62(rng, 11)}-{_b62(rng, 4)}"
            reply[j] = f"250 OK id={rid[j]}"
        elif s == "sendmail":
            rid[j] = f"5A{_b62(rng, 4)}{rng.randrange(10**5, 10**6)}"
            reply[j] = f"250 2.0.0 {rid[j]} Message accepted for delivery"
        else:  # Yahoo / AOL say nothing the sender could join on
            reply[j] = "250 ok dirdel"
    w.j_rid, w.j_reply, w.j_internal = rid, reply, internal
