#!/usr/bin/env python3
"""Cross-check unicharge-diameter against python-diameter (an independent implementation).

Run from this directory with python-diameter 0.9.0 installed (pip install python-diameter==0.9.0):

    python3 python_diameter_check.py

It writes, next to this script:
  *.hex.python-dump    python-diameter's decoding of each of our encoded vectors (*.hex)
  py_*.hex             messages encoded by python-diameter, which our decoder must read
  python-dictionary.tsv python-diameter's entry for every (code, vendor) of our dictionary
The Rust test tests/vectors.rs compares our own decoding with these committed files, so CI
checks the independent implementation's view without needing Python.
"""
import glob
import os
import struct
import sys

from diameter.message import Message
from diameter.message.avp import (Avp, AvpAddress, AvpEnumerated, AvpFloat32, AvpFloat64,
                                  AvpGrouped, AvpInteger32, AvpInteger64, AvpOctetString,
                                  AvpTime, AvpUnsigned32, AvpUnsigned64, AvpUtf8String)
from diameter.message.avp.dictionary import AVP_DICTIONARY, AVP_VENDOR_DICTIONARY
from diameter.message.constants import *

HERE = os.path.dirname(os.path.abspath(__file__))


def fmt(avp, indent):
    pad = "  " * indent
    head = f"{pad}{avp.code}:{avp.vendor_id} flags=0x{avp.flags:02x}"
    t = type(avp)
    if t is AvpGrouped:
        lines = [head + " grouped"]
        for c in avp.value:
            lines += fmt(c, indent + 1)
        return lines
    if t in (AvpInteger32, AvpInteger64, AvpUnsigned32, AvpUnsigned64, AvpEnumerated):
        return [f"{head} int {avp.value}"]
    if t in (AvpFloat32, AvpFloat64):
        return [f"{head} float {avp.value!r}"]
    if t is AvpTime:
        return [f"{head} time {struct.unpack('>I', avp.payload)[0]}"]
    if t is AvpAddress:
        fam, addr = avp.value
        return [f"{head} address {fam} {addr}"]
    if t is AvpUtf8String:
        return [f"{head} text {avp.payload.decode('utf-8')}"]
    return [f"{head} octets {avp.payload.hex()}"]


def dump(msg):
    h = msg.header
    lines = [f"cmd={h.command_code} app={h.application_id} flags=0x{h.command_flags:02x} "
             f"hbh={h.hop_by_hop_identifier} e2e={h.end_to_end_identifier}"]
    for a in msg.avps:
        lines += fmt(a, 1)
    return "\n".join(lines) + "\n"


def decode_ours():
    for path in sorted(glob.glob(os.path.join(HERE, "*.hex"))):
        if os.path.basename(path).startswith("py_"):
            continue
        data = bytes.fromhex(open(path).read().strip())
        msg = Message.from_bytes(data, plain_msg=True)
        again = msg.as_bytes()
        assert again == data, f"{path}: python-diameter re-encodes differently"
        with open(path + ".python-dump", "w") as f:
            f.write(dump(msg))
        print("decoded", os.path.basename(path))


def encode_theirs():
    import datetime
    from diameter.message import MessageHeader

    def msg(cmd, app, flags, hbh, e2e, avps):
        m = Message(MessageHeader(command_code=cmd, application_id=app, command_flags=flags,
                                  hop_by_hop_identifier=hbh, end_to_end_identifier=e2e), avps)
        return m.as_bytes()

    def grouped(code, vendor, children):
        a = Avp.new(code, vendor)
        a.value = children
        return a

    acr = msg(271, 3, 0xC0, 0x01020304, 0x0A0B0C0D, [
        Avp.new(AVP_SESSION_ID, value="pyctf.example.org;1;1"),
        Avp.new(AVP_ORIGIN_HOST, value=b"pyctf.example.org"),
        Avp.new(AVP_ORIGIN_REALM, value=b"example.org"),
        Avp.new(AVP_DESTINATION_REALM, value=b"operator.net"),
        Avp.new(AVP_ACCOUNTING_RECORD_TYPE, value=E_ACCOUNTING_RECORD_TYPE_START_RECORD),
        Avp.new(AVP_ACCOUNTING_RECORD_NUMBER, value=0),
        Avp.new(AVP_ACCT_APPLICATION_ID, value=APP_DIAMETER_BASE_ACCOUNTING),
        Avp.new(AVP_SERVICE_CONTEXT_ID, value="32260@3gpp.org"),
        Avp.new(AVP_EVENT_TIMESTAMP, value=datetime.datetime(2024, 12, 6, 11, 0, 0)),
        Avp.new(AVP_ACCOUNTING_SUB_SESSION_ID, value=2**40 + 5),
        grouped(AVP_TGPP_SERVICE_INFORMATION, VENDOR_TGPP, [
            grouped(AVP_SUBSCRIPTION_ID, 0, [
                Avp.new(AVP_SUBSCRIPTION_ID_TYPE, value=0),
                Avp.new(AVP_SUBSCRIPTION_ID_DATA, value="491709876543"),
            ]),
            grouped(AVP_TGPP_IMS_INFORMATION, VENDOR_TGPP, [
                Avp.new(AVP_TGPP_NODE_FUNCTIONALITY, VENDOR_TGPP, value=3),
            ]),
        ]),
    ])
    write("py_acr_start.hex", acr)

    cer = msg(257, 0, 0x80, 7, 8, [
        Avp.new(AVP_ORIGIN_HOST, value=b"pyctf.example.org"),
        Avp.new(AVP_ORIGIN_REALM, value=b"example.org"),
        Avp.new(AVP_HOST_IP_ADDRESS, value="192.0.2.7"),
        Avp.new(AVP_HOST_IP_ADDRESS, value="2001:db8::7"),
        Avp.new(AVP_VENDOR_ID, value=10415),
        Avp.new(AVP_PRODUCT_NAME, value="python-diameter"),
        Avp.new(AVP_SUPPORTED_VENDOR_ID, value=10415),
        Avp.new(AVP_ACCT_APPLICATION_ID, value=APP_DIAMETER_BASE_ACCOUNTING),
        grouped(AVP_VENDOR_SPECIFIC_APPLICATION_ID, 0, [
            Avp.new(AVP_VENDOR_ID, value=10415),
            Avp.new(AVP_AUTH_APPLICATION_ID, value=4),
        ]),
    ])
    write("py_cer.hex", cer)


def write(name, data):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(data.hex() + "\n")
    print("encoded", name)


def dictionary():
    # Our (code, vendor) pairs come from the Rust dictionary's export (our-dictionary.tsv).
    rows = ["code\tvendor\tname\ttype\tmandatory"]
    for line in open(os.path.join(HERE, "our-dictionary.tsv")).read().splitlines()[1:]:
        code, vendor = (int(x) for x in line.split("\t")[:2])
        entry = (AVP_VENDOR_DICTIONARY.get(vendor, {}) if vendor else AVP_DICTIONARY).get(code)
        if entry is None:
            rows.append(f"{code}\t{vendor}\t-\t-\t-")
            continue
        rows.append(f"{code}\t{vendor}\t{entry['name']}\t{entry['type'].__name__}\t"
                    f"{entry.get('mandatory', False)}")
    with open(os.path.join(HERE, "python-dictionary.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    print("dictionary", len(rows) - 1, "entries")


if __name__ == "__main__":
    decode_ours()
    encode_theirs()
    dictionary()
