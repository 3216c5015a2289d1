"""Fixed vectors of the log (docs/verifiable-log.md, "Test vectors"), derived with gmssl's SM3 — an implementation
independent of the `cryptography` SM3 the product uses — and RFC 9162's recursive definitions worked by hand.
Leaves are the UTF-8 bytes of "leaf-0" … "leaf-6"."""

LEAVES = [f"leaf-{i}".encode() for i in range(7)]
SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"  # GB/T 32905-2016, appendix A.1
SM3_EMPTY = "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
LEAF_HASHES = [
    "25736362cb6acc70942a2b9454934f2c8a7d22547c279d420a71871efc236e61",
    "7ea0f856375f80bf2aaaf86109627a4bb36bfb8da550daadfd3d5cfc09498454",
    "843a53ba70c2678c3c5096ffa3efdf552f94753cdc0d412ce9fc3fc982fa3071",
    "79ef1b10256a2d4f34de84a89bb5e466d367f1118cd32d92cbdaab9527990798",
    "7f836b3d2a076fefd60a6f69eea296df1ea0fea403acce1f4fc3c6a9e255e3b0",
    "fc981d4a7a3645814242a170db82468d08004eaf6bd7033122193b1c39c350b9",
    "a1a399b3c3648125e1d91b3602a6e03d669b48c905dd7b7ba95eded78103bd5c",
]
ROOTS = {  # tree size -> root
    1: "25736362cb6acc70942a2b9454934f2c8a7d22547c279d420a71871efc236e61",
    2: "a58a500e4951e30b79294826f34fad5ecc6c1297e50f5f1ce28fe5bb6030b4ec",
    3: "bf3a93c66aecfa5210f0a6e79467bb17effa98a688bedb4693d23c1d1fe0f450",
    4: "aac6cd5aba5d079d386f4626c88ce077ad20cbf8b4bf0d58a3740910800cd800",
    5: "20a9c4953bd7e572e33f0df857fb79de989f5e290c4cb380a1c2887731603bf6",
    6: "bd3af22b534ac3754fe73b73e19e1dd36d64c4785d7eefd62cb4cc76def1e27f",
    7: "21f439e3829b7ef3d0ac7232075bce7f7ca35780b842b80231399b339e8549c9",
}
INCLUSION_3_OF_7 = [
    "843a53ba70c2678c3c5096ffa3efdf552f94753cdc0d412ce9fc3fc982fa3071",
    "a58a500e4951e30b79294826f34fad5ecc6c1297e50f5f1ce28fe5bb6030b4ec",
    "beb33192cc8624c76a9e4d8af1000cdcdfea6e6d22b189bd9280559620fb938d",
]
CONSISTENCY_3_TO_7 = [
    "843a53ba70c2678c3c5096ffa3efdf552f94753cdc0d412ce9fc3fc982fa3071",
    "79ef1b10256a2d4f34de84a89bb5e466d367f1118cd32d92cbdaab9527990798",
    "a58a500e4951e30b79294826f34fad5ecc6c1297e50f5f1ce28fe5bb6030b4ec",
    "beb33192cc8624c76a9e4d8af1000cdcdfea6e6d22b189bd9280559620fb938d",
]
CONSISTENCY_4_TO_7 = ["beb33192cc8624c76a9e4d8af1000cdcdfea6e6d22b189bd9280559620fb938d"]

EVALUATION_LEAF = (
    '{"channel":"kiosk","day":"2026-12-05","department":"11370102MB1234567X","digest":"' + "0" * 64 + '",'
    '"item":"11370102MB1234567X3000111000","kind":"evaluation","level":5,"region":"370102","stage":"complete",'
    '"type":"active","v":1}'
)
EXCLUSION_LEAF = '{"day":"2026-12-06","digest":"' + "1" * 64 + '","evaluation":3,"kind":"exclusion","reason":"appeal_upheld","v":1}'
EXCLUSION_DIGEST = "3e1a119f69495881e0b69b6a0074cac97d5cc8ebc3f4dc09cbf0c7c8603a048e"

CHECKPOINT_TEXT = ("haochaping-log/v1\nhttps://hcp.example.gov.cn\n7\n"
                   "21f439e3829b7ef3d0ac7232075bce7f7ca35780b842b80231399b339e8549c9\n2026-12-06T01:00:00Z\n")
SM2_PRIVATE_KEY = "1" * 64
SM2_PUBLIC_KEY = ("852611f744af045689dcfbf4c0437730d2d2de332ab7f0fc02769c5fab8a8943"
                  "7d9384f19ab882ed668a28936db92475aa79aef8690ee36f6fb77c69b9b571f8")
SM2_SIGNATURE = ("1dbd5ccad0bee75d92a97b4ffcac0f0a80df31427aef98495109db6f98a2974e"
                 "12eb10e64e364e586d7cf89c5cf05f7f1609db5c2a63ff0097ae1eeade2f8d53")
