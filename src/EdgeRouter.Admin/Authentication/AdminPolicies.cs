namespace EdgeRouter.Admin.Authentication;

/// <summary>The admin's two doors: the API takes the admin key as a bearer token, the pages a cookie that signing in with it sets.</summary>
internal static class AdminPolicies
{
    public const string Api = "EdgeRouterAdminApi";
    public const string Ui = "EdgeRouterAdminUi";
    public const string CookieScheme = "EdgeRouterAdminCookie";
}
