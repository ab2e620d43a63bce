#!/usr/bin/env python3
"""Independent UPER vectors for unicharge-efc, produced with Python asn1tools (0.169.0).

Run:  python3 -m venv /tmp/asnvenv && /tmp/asnvenv/bin/pip install asn1tools==0.169.0
      /tmp/asnvenv/bin/python crates/efc/testdata/gen_vectors.py > crates/efc/testdata/asn1tools-vectors.json

It compiles ISO's own module texts from ../shared/reference/efc-asn1/full-set/ (not copied into
this repository) with these adjustments, none of which touches a type our vectors use:
- X.509 imports (AuthenticationFramework, ExtendedSecurityServices-2006) do not parse in asn1tools;
  a stand-in module gives AlgorithmIdentifier as SEQUENCE { OBJECT IDENTIFIER, open type as
  OCTET STRING OPTIONAL, ... } (same PER bits as the real open type with raw parameter octets);
  Certificate/Name/SigningCertificateV2 (signature alternative only) become OCTET STRING.
- AlgorithmIdentifier{{...}} -> AlgorithmIdentifier; AttributeList{CccContainer|LacContainer}
  -> AttributeList{EfcContainer} (cross-module parameters asn1tools cannot resolve);
  CHARACTER STRING -> UTF8String (17575-3 chargeObjectName, not reachable from ChargeReport);
  EfcContainer added to the CCC and LAC modules' imports so the substitution resolves.
- asn1tools 0.169.0 needs two fixes to compile these modules (asn1tools-0.169.0.patch here:
  `patch -p1 -d <site-packages> < asn1tools-0.169.0.patch`): skip non-tuple 'restricted-to'
  items when substituting parameters, and look recursive types (EfcContainer) up across modules.
"""
import datetime, json, os, sys
import asn1tools

BASE = os.environ.get('EFC_ASN1_DIR', '/work/shared/reference/efc-asn1/full-set/')
NAMES = ["ISO17575(2016)EfcAutonomousChargingV2.asn", "ISO17575(2016)EfcAutonomousContextDataV2.asn",
         "ISO14906Amd(2014)EfcDsrcApplicationv5.asn", "ISO14906Amd(2014)EfcDsrcGenericv5.asn",
         "ISO12813(2015)EfcCccV2.asn", "ISO13141(2015)EfcLacV2.asn",
         "ISO14816_AVIAEINumberingAndDataStructures.asn"]
SHIM = """
AuthenticationFramework {joint-iso-itu-t ds(5) module(1) authenticationFramework(7) 6}
DEFINITIONS ::= BEGIN
Certificate ::= OCTET STRING
AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters OCTET STRING OPTIONAL, ... }
SupportedAlgorithms ::= OCTET STRING
CertificateSerialNumber ::= INTEGER
Name ::= OCTET STRING
END
ExtendedSecurityServices-2006 {iso(1) member-body(2) us(840) rsadsi(113549) pkcs(1) pkcs-9(9) smime(16) modules(0) id-mod-ess-2006(30)}
DEFINITIONS ::= BEGIN
SigningCertificateV2 ::= OCTET STRING
END
"""

def fix(t):
    return (t.replace("AlgorithmIdentifier{{...}}", "AlgorithmIdentifier")
             .replace("{CccContainer}", "{EfcContainer}")
             .replace("{LacContainer}", "{EfcContainer}")
             .replace("CHARACTER STRING", "UTF8String")
             .replace("ReturnStatus, Time,  VST", "ReturnStatus, Time, VST, EfcContainer")
             .replace("ReturnStatus, Time, VST\nFROM", "ReturnStatus, Time, VST, EfcContainer\nFROM"))

spec = asn1tools.compile_string("\n".join([fix(open(BASE + n).read()) for n in NAMES] + [SHIM]), 'uper')

UTC = datetime.timezone.utc
def t(y, mo, d, h, mi, s):
    return datetime.datetime(y, mo, d, h, mi, s, tzinfo=UTC)

def cc(v):  # CountryCode BIT STRING (SIZE(10))
    return ((v << 6).to_bytes(2, 'big'), 10)

provider = {'countryCode': cc(276), 'providerIdentifier': 1234}
contract = {'contractProvider': provider, 'typeOfContract': b'\x00\x01', 'contextVersion': 3}
lpn = {'countryCode': cc(276), 'alphabetIndicator': 'latinAlphabetNo1', 'licencePlateNumber': b'B-UC 1757'}
fee = {'paymentFeeAmount': 1250, 'paymentFeeUnit': b'\x03\xd2'}
period = {'beginOfPeriod': t(2026, 12, 6, 8, 0, 0), 'endOfPeriod': t(2026, 12, 6, 9, 30, 0)}
tariff = {'tariffClassId': 7, 'localVehicleClass': 2, 'timeClass': 3, 'locationClass': 100001, 'userClass': 1}
vehicle = {'vehicleLPNr': lpn, 'axles': {'vehicleFirstAxleHeight': 90, 'vehicleAxlesNumber': {'tyreType': 'dualTyres', 'numberOfAxles': {'trailerAxles': 2, 'tractorAxles': 3}}},
           'class': 4, 'dimensions': {'vehicleLengthOverall': 165, 'vehicleHeigthOverall': 40, 'vehicleWidthOverall': 25},
           'specificCharacteristics': {'environmentalCharacteristics': {'euroValue': 'euro-6', 'copValue': 'co2class3'}, 'engineCharacteristics': 4, 'descriptiveCharacteristics': 12, 'futureCharacteristics': 0},
           'ladenWeight': 38000, 'weightLimits': {'vehicleMaxLadenWeight': 40000, 'vehicleTrainMaximumWeight': 44000, 'vehicleWeightUnladen': 14000},
           'trailerCharacteristics': {'trailerDetails': {'trailerType': 2, 'trailerAxles': 3}, 'trailerMaxLadenWeight': 30000, 'trailerWeightUnladen': 7000}}

usage_full = {
    'usageStatementId': 1,
    'tollContext': provider,
    'aggregatedFee': {'timePeriodCovered': period, 'feeExclVat': fee, 'sumVat': {'paymentFeeAmount': 238, 'paymentFeeUnit': b'\x03\xd2'}},
    'aggregatedSingleTariffClassSession': {'timePeriodCovered': period, 'currentTariffClass': tariff, 'vehicleDescription': vehicle,
        'totalDistanceCovered': {'dist': 84250, 'disUnit': 2}, 'numberOfDetectedEvents': 12, 'obeStatus': 0, 'feeExclVat': fee},
    'listOfChargeObjects': [
        {'chargeObjectId': {'chargeObjectDesignation': 4711}, 'subObjectNumber': 2, 'timeWhenUsed': t(2026, 12, 6, 8, 15, 0),
         'mileageWhenUsed': {'dist': 12000}, 'currentTariffClass': tariff, 'obeStatus': 0, 'feeExclVat': fee, 'chargeObjDetectionMode': 0},
        {'chargeObjectId': {'chargeReportFinalRecipient': provider, 'chargeObjectDesignation': 4712}},
    ],
    'listOfRawUsageData': {'rawDataList': [
        {'measuredPosition': {'longitude': 134050000, 'latitude': 525200000, 'altitude': {'altitude': -12, 'altUnit': 0}},
         'timeWhenMeasured': t(2026, 12, 6, 8, 1, 2),
         'nmeaData': {'time': '080102000', 'status': 'A', 'latitude': '52312000', 'latNS': 'N', 'longitude': '013240300', 'longEW': 'E',
                      'speed': '072', 'heading': '270', 'date': '061226', 'signalIntegrity': 'D', 'altitude': '-0012', 'usedSatellites': '09', 'hdop': '011'},
         'additionalGnssData': b'\xca\xfe'},
        {}], 'currentTariffClass': tariff},
    'noUsage': False,
    'additionalUsageInformation': b'extra',
}
ccc = {'timeOfCccRecord': t(2026, 12, 6, 9, 0, 0),
       'axlesHistory': {'timeWhenChanged': 1765000000, 'previousVehicleAxles': vehicle['axles']},
       'commStatus': {'timeOfLastTransmission': 1765000100, 'pendingSince': 1765000200},
       'gnssStatus': {'lastGnssFixLon': 134050000, 'lastGnssFixLat': -525200000, 'lastGnssFixAlt': -30, 'lastGnssFixTime': 1765000300,
                      'currentHDOP': {'hDOP': 11, 'numberOfUsedSatellites': 9},
                      'lastLAC': {'timeOfLAC': 1765000400, 'lACOperator': provider, 'rSEId': 77}},
       'distRecStatus': {'distRecordingStatus': 2, 'accumulatedTravelledDistance': 123456789, 'deviationFromGnss': -3},
       'activeContexts': [{'tollContext': provider, 'contextVersion': 1}],
       'obeHistory': {'statusIndicator': 1, 'timeWhenChanged': 1765000500, 'timeWhenActived': 1765000600, 'timeWhenObePowered': 1765000700}}

full_report = {
    'protocolVersion': 0,
    'obeId': {'manufacturerId': 42, 'equipmentObuId': b'\x00\x11\x22\x33'},
    'paymentMeans': {'personalAccountNumber': b'\x12\x34\x56\x78\x90\x12\x34\x56\x78\x9f',
                     'paymentMeansExpiryDate': {'year': 2029, 'month': 12, 'day': 31}, 'pamentMeansUsageControl': b'\x00\x00'},
    'serviceProviderContract': contract,
    'tollContext': provider,
    'chargeReportFinalRecipient': provider,
    'timeOfReport': t(2026, 12, 6, 9, 31, 0),
    'reportPeriod': period,
    'versionInfo': ('extendedVersionId', [{'versionName': 'obe-fw', 'value': '2.1.0'}]),
    'usageStatementList': [('usageStatement', usage_full), ('usageStatement', {'usageStatementId': 2, 'noUsage': True})],
    'sumVatForThisSession': {'paymentFeeAmount': 238, 'paymentFeeUnit': b'\x03\xd2'},
    'accountStatus': 1,
    'chargeReportCounter': 4294967295,
    'mileage': {'dist': 16777210},
    'listOfCccAttributes': [ccc, {}],
}

minimal_report = {'protocolVersion': 0, 'serviceProviderContract': contract, 'usageStatementList': []}
cr_counter = {'protocolVersion': 0, 'obeId': {'manufacturerId': 1, 'equipmentObuId': b'OBE-0001'},
              'vehicleLPNr': lpn, 'serviceProviderContract': contract,
              'timeOfReport': t(2026, 12, 6, 10, 0, 0), 'usageStatementList': [('usageStatement', {'usageStatementId': 1, 'aggregatedFee': {'timePeriodCovered': period, 'feeExclVat': fee}})],
              'accountStatus': 0, 'chargeReportCounter': 7, 'mileage': {'dist': 1500}}

mac = ('mac', {'algorithmIdentifier': {'algorithm': '1.2.840.113549.2.9'}, 'masterKeyRef': 1, 'keyDerivationID': b'OBE-0001',
               'authenticator': (bytes(range(32)), 256)})
min_bytes = spec.encode('ChargeReport', minimal_report)
auth_report = {'chargeReportPer': (min_bytes, len(min_bytes) * 8), 'messageAuthenticator': mac}

vectors = [
    ('crr_ack_counter_7', 'ChargeReportResponse', {'dataReceived': ('chargeReportCounter', 7), 'obeStatusForDriver': 0}),
    ('crr_empty', 'ChargeReportResponse', {}),
    ('crr_sender_time_echo_nosignalling', 'ChargeReportResponse', {'chargeReportRespSender': provider, 'dataReceived': ('timeOfReport', t(2026, 12, 6, 9, 31, 0)), 'obeStatusForDriver': 255}),
    ('crr_mileage_echo_version', 'ChargeReportResponse', {'dataReceived': ('mileage', {'dist': 16777215, 'disUnit': 2}), 'versionsResponse': ('basicVersionId', b'\x02\x00')}),
    ('crr_set_credit_limit', 'ChargeReportResponse', {'dataReceived': ('chargeReportCounter', 8), 'accountUpdate': ('setAccount', {'newCreditLimit': {'paymentFeeAmount': 500, 'paymentFeeUnit': b'\x03\xd2'}})}),
    ('crr_set_time_limit', 'ChargeReportResponse', {'dataReceived': ('chargeReportCounter', 9), 'accountUpdate': ('setAccount', {'newTimeLimit': t(2026, 12, 7, 0, 0, 0)})}),
    ('crr_set_duration_limit', 'ChargeReportResponse', {'accountUpdate': ('setAccount', {'newDurationLimit': {'dur': 90, 'durUnit': 1}})}),
    ('crr_set_event_limit_negative', 'ChargeReportResponse', {'accountUpdate': ('setAccount', {'newEventLimit': -5})}),
    ('crr_set_distance_limit', 'ChargeReportResponse', {'accountUpdate': ('setAccount', {'newDistanceLimit': {'dist': 0}})}),
    ('crr_add_credit', 'ChargeReportResponse', {'accountUpdate': ('addToAccount', {'addCredit': {'paymentFeeAmount': 100, 'paymentFeeUnit': b'\x03\xd2'}})}),
    ('crr_add_events', 'ChargeReportResponse', {'accountUpdate': ('addToAccount', {'addEvents': 3})}),
    ('crr_add_distance_big_events', 'ChargeReportResponse', {'accountUpdate': ('addToAccount', {'addDistance': {'dist': 250}, 'addEvents': 100000})}),
    # BASIC-PER may encode a DEFAULT value explicitly; CANONICAL-PER (rasn's encoder) omits it.
    ('noncanonical_crr_add_distance_big_events', 'ChargeReportResponse', {'accountUpdate': ('addToAccount', {'addDistance': {'dist': 250, 'disUnit': 0}, 'addEvents': 100000})}),
    ('crr_reload_credit', 'ChargeReportResponse', {'accountUpdate': ('reloadAccount', {'reloadOldCreditAmount': True})}),
    ('crr_reload_event', 'ChargeReportResponse', {'accountUpdate': ('reloadAccount', {'reloadOldEventLimit': True})}),
    ('cr_minimal', 'ChargeReport', minimal_report),
    ('cr_counter_7', 'ChargeReport', cr_counter),
    ('cr_full', 'ChargeReport', full_report),
    ('auth_cr_minimal', 'AuthenticatedChargeReport', auth_report),
]

out = []
for name, ty, value in vectors:
    out.append({'name': name, 'type': ty, 'hex': spec.encode(ty, value).hex()})
json.dump({'generator': 'asn1tools ' + asn1tools.__version__, 'vectors': out}, sys.stdout, indent=1)
print()
