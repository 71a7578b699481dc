import Hummingbird
import NIOCore

/// The web page (`Web/` in this target), compiled into the binary and served at `/` on the
/// HTTP port. It needs no token to load: it asks for one when the API refuses it.
enum WebPage {
    struct File: Sendable {
        let path: String
        let contentType: String
        let bytes: [UInt8]

        var response: Response {
            var headers = HTTPFields()
            headers[.contentType] = contentType
            headers[.cacheControl] = "no-cache"
            headers[.xContentTypeOptions] = "nosniff"
            headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    /// The page's files; the first is the page itself.
    static let files: [File] = [
        File(path: "/index.html", contentType: "text/html; charset=utf-8", bytes: PackageResources.index_html),
        File(path: "/app.js", contentType: "text/javascript; charset=utf-8", bytes: PackageResources.app_js),
        File(path: "/rpc.js", contentType: "text/javascript; charset=utf-8", bytes: PackageResources.rpc_js),
        File(path: "/style.css", contentType: "text/css; charset=utf-8", bytes: PackageResources.style_css),
    ]
}
