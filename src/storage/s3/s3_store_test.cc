// Unit tests of the S3 backend's parts that need no server: URL options, request URLs and their
// canonical encoding, XML documents and the mapping of S3 answers to Status codes. The behaviour
// against a server is covered by the ArtifactStore conformance suite (S3* tests).
#include "storage/s3/s3_store.h"

#include <gtest/gtest.h>

#include "base/url.h"
#include "storage/s3/s3_client.h"
#include "storage/s3/s3_xml.h"

namespace pa::storage::s3 {
namespace {

Result<Options> FromUrl(std::string_view text) {
  PA_ASSIGN_OR_RETURN(Url url, ParseUrl(text));
  return OptionsFromUrl(url);
}

TEST(S3OptionsTest, ReadsEveryPartOfTheUrl) {
  auto o = FromUrl(
      "s3://my-bucket/some/prefix/?endpoint=http://127.0.0.1:9000&region=eu-west-3"
      "&path_style=true");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->bucket, "my-bucket");
  EXPECT_EQ(o->prefix, "some/prefix");
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(o->region, "eu-west-3");
  EXPECT_TRUE(o->path_style);
}

TEST(S3OptionsTest, DefaultsToAwsVirtualHosting) {
  auto o = FromUrl("s3://bucket.with.dots?region=us-west-2");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->endpoint, "https://s3.us-west-2.amazonaws.com");
  EXPECT_FALSE(o->path_style);
  EXPECT_EQ(o->prefix, "");
  auto plain = FromUrl("s3://bucket");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->region, "us-east-1");
  EXPECT_EQ(plain->endpoint, "https://s3.us-east-1.amazonaws.com");
}

TEST(S3OptionsTest, RefusesBadUrlsWithAClearMessage) {
  struct Case {
    const char* url;
    const char* says;
  };
  for (const Case& c : {
           Case{"s3://?endpoint=http://h:1", "no bucket"},
           Case{"s3:///prefix", "no bucket"},
           Case{"s3://Upper", "not valid"},
           Case{"s3://ab", "not valid"},
           Case{"s3://under_score", "not valid"},
           Case{"s3://b-?endpoint=http://h", "not valid"},
           Case{"s3://bucket?endpoint=ftp://h", "http or https"},
           Case{"s3://bucket?endpoint=nourl", "not a URL"},
           Case{"s3://bucket?endpoint=http://h:1/path", "must not have a path"},
           Case{"s3://bucket?endpoint=http://:9000", "no host"},
           Case{"s3://bucket?path_style=yes", "path_style must be true or false"},
           Case{"s3://bucket?pathstyle=true", "unknown parameter 'pathstyle'"},
           Case{"s3://bucket?region=EU%20West", "region"},
           Case{"s3://key:secret@bucket", "credentials"},
           Case{"s3://bucket:9000", "endpoint"},
           Case{"s3://bucket/a/../b", "prefix"},
       }) {
    auto o = FromUrl(c.url);
    ASSERT_FALSE(o.ok()) << c.url;
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << c.url;
    EXPECT_NE(o.status().message().find(c.says), std::string::npos)
        << c.url << " → " << o.status().message();
  }
}

TEST(S3OptionsTest, OpenChecksOptionsGivenInCode) {
  Options o{.bucket = "bucket", .endpoint = "http://127.0.0.1:1"};
  EXPECT_TRUE(Open(o).ok());
  for (auto bad : std::vector<std::function<void(Options&)>>{
           [](Options& x) { x.bucket = ""; },
           [](Options& x) { x.endpoint = "127.0.0.1:9000"; },
           [](Options& x) { x.access_key = "only-the-key"; },
           [](Options& x) { x.part_size = 1 << 20; },
           [](Options& x) { x.list_page_size = 0; },
           [](Options& x) { x.list_page_size = 1001; },
           [](Options& x) { x.max_retries = -1; },
           [](Options& x) { x.prefix = "/abs"; },
       }) {
    Options copy = o;
    bad(copy);
    EXPECT_EQ(Open(copy).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(S3OptionsTest, DescriptionHasNoSecret) {
  auto store = Open({.bucket = "bucket",
                     .prefix = "p",
                     .endpoint = "http://127.0.0.1:1/",
                     .access_key = "AKIDEXAMPLE",
                     .secret_key = "wJalrXUtnFEMI/K7MDENG"});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->backend(), "s3");
  EXPECT_EQ((*store)->description(),
            "s3://bucket/p?endpoint=http://127.0.0.1:1&region=us-east-1&path_style=false");
}

TEST(S3UrlTest, EncodesPathsAndSortsQueries) {
  EXPECT_EQ(EncodePath("a/b c/d~e.f_g-h"), "a/b%20c/d~e.f_g-h");
  EXPECT_EQ(EncodePath("x+y=z"), "x%2By%3Dz");
  EXPECT_EQ(CanonicalQuery({{"prefix", "a/b c"},
                            {"list-type", "2"},
                            {"continuation-token", "1/Ab+c=="},
                            {"uploads", ""}}),
            "continuation-token=1%2FAb%2Bc%3D%3D&list-type=2&prefix=a%2Fb%20c&uploads=");
  EXPECT_EQ(CanonicalQuery({{"uploadId", "x"}, {"partNumber", "10"}}), "partNumber=10&uploadId=x");
}

TEST(S3UrlTest, BuildsPathStyleAndVirtualHostedUrls) {
  Options o{.bucket = "bkt", .endpoint = "http://127.0.0.1:9000", .path_style = true};
  S3Client path(o);
  EXPECT_EQ(path.UrlFor("p/k.png", {}), "http://127.0.0.1:9000/bkt/p/k.png");
  EXPECT_EQ(path.UrlFor("", {{"max-keys", "1"}, {"list-type", "2"}}),
            "http://127.0.0.1:9000/bkt?list-type=2&max-keys=1");
  o.path_style = false;
  o.endpoint = "https://s3.eu-west-1.amazonaws.com";
  S3Client vhost(o);
  EXPECT_EQ(vhost.UrlFor("p/k.png", {}), "https://bkt.s3.eu-west-1.amazonaws.com/p/k.png");
  EXPECT_EQ(vhost.UrlFor("", {{"list-type", "2"}}),
            "https://bkt.s3.eu-west-1.amazonaws.com/?list-type=2");
}

TEST(S3XmlTest, ParsesListPages) {
  auto page = ParseListPage(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated><NextContinuationToken>tok+/=</NextContinuationToken>
  <Contents><Key>p/a&amp;b</Key><LastModified>2026-11-28T10:00:03.250Z</LastModified>
    <ETag>"x"</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>p/c</Key><LastModified>bogus</LastModified><Size>0</Size></Contents>
</ListBucketResult>)");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_token, "tok+/=");
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "p/a&b");
  EXPECT_EQ(page->objects[0].size, 12);
  EXPECT_EQ(page->objects[0].modified_ms, 1795860003250);
  EXPECT_EQ(page->objects[1].modified_ms, 0);

  auto last =
      ParseListPage("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(last.ok());
  EXPECT_FALSE(last->truncated);
  EXPECT_TRUE(last->objects.empty());
}

TEST(S3XmlTest, RefusesBrokenListPages) {
  EXPECT_EQ(ParseListPage("<html>proxy error</html>").status().code(), StatusCode::kInternal);
  EXPECT_EQ(ParseListPage("not xml").status().code(), StatusCode::kInternal);
  EXPECT_EQ(ParseListPage("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>")
                .status()
                .code(),
            StatusCode::kInternal)
      << "truncated without a token would loop forever";
  EXPECT_EQ(ParseListPage("<ListBucketResult><Contents><Key>k</Key><Size>x</Size></Contents>"
                          "</ListBucketResult>")
                .status()
                .code(),
            StatusCode::kInternal);
}

TEST(S3XmlTest, ParsesErrorsAndMultipartDocuments) {
  const S3Error err = ParseError(
      "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
      "<RequestId>1</RequestId></Error>");
  EXPECT_EQ(err.code, "AccessDenied");
  EXPECT_EQ(err.message, "Access Denied");
  EXPECT_TRUE(ParseError("").code.empty());
  EXPECT_TRUE(ParseError("<ListBucketResult/>").code.empty());

  EXPECT_EQ(ParseUploadId("<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                          "<UploadId>abc123</UploadId></InitiateMultipartUploadResult>")
                .value_or(""),
            "abc123");
  EXPECT_FALSE(ParseUploadId("<InitiateMultipartUploadResult/>").ok());

  EXPECT_EQ(CompleteMultipartXml({{1, "\"e1\""}, {2, "\"e&2\""}}),
            "<?xml version=\"1.0\"?>"
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"e&amp;2\"</ETag></Part>"
            "</CompleteMultipartUpload>");
}

TEST(S3ErrorTest, MapsAnswersToStatusCodes) {
  S3Client client(Options{.bucket = "bkt", .endpoint = "http://h:1"});
  auto answer = [&](int status, std::string body) {
    return client.ErrorFor(HttpResponse{.status = status, .headers = {}, .body = std::move(body)},
                           "GET k");
  };
  auto doc = [](std::string_view code, std::string_view msg) {
    return "<Error><Code>" + std::string(code) + "</Code><Message>" + std::string(msg) +
           "</Message></Error>";
  };
  EXPECT_TRUE(answer(200, "").ok());
  EXPECT_TRUE(answer(204, "").ok());
  EXPECT_EQ(answer(404, doc("NoSuchKey", "gone")).code(), StatusCode::kNotFound);
  EXPECT_EQ(answer(404, "").code(), StatusCode::kNotFound) << "HEAD has no body";
  const Status bucket = answer(404, doc("NoSuchBucket", "no bucket"));
  EXPECT_EQ(bucket.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(bucket.message().find("'bkt'"), std::string::npos);
  const Status denied = answer(403, doc("AccessDenied", "Access Denied"));
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "s3 GET k: HTTP 403 AccessDenied: Access Denied");
  EXPECT_EQ(answer(503, doc("SlowDown", "Reduce your request rate")).code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(answer(429, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(answer(400, doc("InvalidArgument", "bad")).code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace pa::storage::s3
