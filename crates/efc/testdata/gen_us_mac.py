#!/usr/bin/env python3
"""MAC vectors for AuthenticatedUsageStatement, computed with Python's own hmac/hashlib
(independent of the Rust hmac/sha2 crates the codec uses).

usageStatementPer is the UPER encoding of the usage statement built in
tests/usage_statement_mac.rs (id 7, aggregatedFee 125 in unit 03d2 for
2026-12-06 11:45:00Z..12:00:00Z); the Rust test pins that encoding, and the enclosing
ChargeReport encodings are checked against asn1tools in asn1tools-vectors.json.
Run: python3 gen_us_mac.py > usage-statement-mac.json
"""
import hashlib
import hmac
import json

per = bytes.fromhex("480000707b260c9b3164c1b3162d1ab061683d93064d98b260d98b260c1830b400fa07a4")
key = bytes(range(1, 33))          # 0x01..0x20
other = bytes(range(0x40, 0x60))   # 0x40..0x5f
print(json.dumps({
    "usageStatementPer": per.hex(),
    "key": key.hex(),
    "otherKey": other.hex(),
    "mac": hmac.new(key, per, hashlib.sha256).hexdigest(),
    "macOtherKey": hmac.new(other, per, hashlib.sha256).hexdigest(),
}, indent=2))
