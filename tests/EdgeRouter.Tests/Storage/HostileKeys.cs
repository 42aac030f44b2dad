namespace EdgeRouter.Tests.Storage;

/// <summary>Keys that must never be accepted, each with what it tries. Shared by every storage's tests.</summary>
public static class HostileKeys
{
    public static readonly string[] All =
    [
        "",
        "..",
        "../escape.png",
        "a/../../escape.png",
        "a/b/../../../escape.png",
        "./a.png",
        "a/./b.png",
        "a/..",
        "/etc/passwd",
        "/absolute.png",
        "\\windows.png",
        "a\\..\\..\\escape.png",
        "..\\escape.png",
        "C:/Windows/win.ini",
        "c:escape.png",
        "a//b.png",
        "a/",
        "trailing.",
        "a /b.png",
        "nul\0byte.png",
        "new\nline.png",
        "carriage\rreturn.png",
        "tab\there.png",
        "bell\u0007.png",
        "del\u007f.png",
        "c1\u0085control.png",
        "rtl\u202Eoverride.png",
        "zero\u200Bwidth.png",
        "bom\uFEFF.png",
        "lone\uD800surrogate.png",
        "%2e%2e/escape.png",
        "..%2fescape.png",
        "a%2Fb.png",
        "%5c..%5cescape.png",
        "double%252e%252e.png",
        "api/v1/objects/x.png",
        "API/x.png",
        "admin/x.png",
        "administrator.png",
        "healthz",
        "readyz/x",
        "metrics/x",
        ".er-0123456789abcdef0123456789abcdef.tmp",
        "a/.er-x.tmp",
        "a/.ER-probe-1/b.png",
        new string('a', 1025),
        string.Concat(Enumerable.Repeat("é", 513)),
        new string('s', 256) + "/x.png",
    ];

    public static IEnumerable<object[]> Data => All.Select(k => new object[] { k });

}
