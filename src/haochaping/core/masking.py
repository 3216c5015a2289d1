"""How personal data is shown when it is not revealed (R7.2): 张*, 138****1234, 1101**********1234."""


def mask_name(name: str) -> str:
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    digits = "".join(phone.split())
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(number: str) -> str:
    n = "".join(number.split())
    if len(n) < 8:
        return "*" * len(n)
    return n[:4] + "*" * (len(n) - 8) + n[-4:]


def mask_email(address: str) -> str:
    """``zhang.san@example.cn`` → ``z*******@example.cn``: the first character of the local part and the domain."""
    local, at, domain = (address or "").strip().partition("@")
    if not local:
        return ""
    return local[0] + "*" * max(len(local) - 1, 1) + (at + domain if at else "")
