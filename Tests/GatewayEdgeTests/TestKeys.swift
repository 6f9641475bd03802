// Test keys generated once with Python's cryptography (scripts only; never used outside tests).
enum TestKeys {
    static let rsaPrivate = #"{"kty":"RSA","key_ops":["sign"],"n":"t8YSF2hwiBlci4n8hk8rGY5l2R6uT0s7Qu1etJsT0IGzSf2lXG3y4NFYtZCBMCPt6rzBycxzx4ac2YrYtfUns77Rzl6U2deAzXM7GPQwiIQp0nw6PW5sxpCINfC4eWldU13wZXgsnC1yN6B6_cQs2_tx9O0KunVSiHX7oQRraxjygbfFjR5yIIIv0mTIiTzVfBPjETiuOXFAtgF82igtGrIvURParDgvil6ZRhOTXGrt6vTObIo0PZ0HFuop4CGi7t5U-EVRQA-z1XtUsRzBKccDE-k7-GO9lVidsSwmY1RBEsoIH2NcOrB1HpfVk0IwQn15ofb4oLXA9w5WXc4liw","e":"AQAB","d":"DZrRUkAa-8n1qUATXKjcVd2BWh2X2Oq5935VuwTmzOvoWng3hDKz8gNj6YXjn0bU2tv52rC5YR8f869NBzEGRrVZmEk1ngG15gyVGbrsihOCrYCHc6HK1esmpYIHHh6rPojSfnVZlBkXMgzXquHmUkWSNG6FLOcsYrBqHiVfttAqOxQSMd4co2wo_sdSqX4YsRS76tVsxF0QVf38OUBTR4Ne-ScMO3NsQcgQh_EeVnmvPuGO17g-B1sqVluDOtOSMpm-nhsrZDLLYOwSXR-fhjcKanONhj_NgLC1Lo-ToyaXAlILbwRGxiu9Dzj4ZOWNYBnweDoeUhv0RfGcEnz2pQ","p":"-ueEZqpJHbVzGwPTsUaqUSS8nNM7td-V1Ng_uAB_aStiDKEoyWNdX4qARg3dtPpFKxsHPUmBchdWOybuyBnhPYOoknsNFBjYVLgGGN_eUzvDHH90bYxZmp-5P497-wXMNSqWdEGvn8JidH3x7FRyllduTBaww7XiptrU2yreUFc","q":"u4GIbePw54kpU15K28WfJ66F70ALNMHKwL8RUmlbXN3snxRW6NG1XAbsCGNNDgEPB1m6mZdKyo9ytUCm2QgmVDgJSHuzYyPyE5Nn_DAzUeIU5mPvauxF4TAw7pfiS9c83nnPGCZipxejdt7mD9ryCCmfOli7NI_y4h8UfKJhQ-0","dp":"Ya3EQ9vDf0dmunuw7HEgWVq9-yfZNSMIR8awd8fp0l3LXDNZl52RemKHMb6wM4bDatao6Nk3Bd3D-l9b0pcQs0wQUoaJPuu1PLYv2Xs-KJU5jlyoTQW41JOeIPqRP9av-3rK_BOedcnNXqCxkFoICjObgw_KXUbwKBlFiNWVmx0","dq":"DLqZaWRc-UrdbFRtXogG6um1G-3MFPPG8NjHs0GFu0MxigcWc02xMyMhKNyc4YN-4q_btAuKP0AHuHhAG2GrQHJhZvNG1UceaufJ2lvnT_q6En3cRfTuNYBRAhF7gkyFTFEWlvwcHF3Fcg9lrNPfNGCm944If2P6SBF2EZPwaG0","qi":"yUbHrQS1XNDqwFGBGuaWdGscvrrqIhqvL_2lk2nkNlDyvazDQdyWtd0X0W8ozQWuhasWdI93mtD9uGwN6lqoUJDVJVG7y29rri4JF6UCPcvNs68naPm5W4srMbuyGbnl_gyzFJzy1tXZc7OXy5sBjrmpYHu_W4gISOrqCtedS7U","kid":"rsa-1","alg":"RS256"}"#
    static let rsaPublic = #"{"kty":"RSA","key_ops":["verify"],"n":"t8YSF2hwiBlci4n8hk8rGY5l2R6uT0s7Qu1etJsT0IGzSf2lXG3y4NFYtZCBMCPt6rzBycxzx4ac2YrYtfUns77Rzl6U2deAzXM7GPQwiIQp0nw6PW5sxpCINfC4eWldU13wZXgsnC1yN6B6_cQs2_tx9O0KunVSiHX7oQRraxjygbfFjR5yIIIv0mTIiTzVfBPjETiuOXFAtgF82igtGrIvURParDgvil6ZRhOTXGrt6vTObIo0PZ0HFuop4CGi7t5U-EVRQA-z1XtUsRzBKccDE-k7-GO9lVidsSwmY1RBEsoIH2NcOrB1HpfVk0IwQn15ofb4oLXA9w5WXc4liw","e":"AQAB","kid":"rsa-1","alg":"RS256"}"#
    static let ecPrivate = #"{"kty":"EC","crv":"P-256","x":"tg75E8bsfk0Rqus718nG6IO8-Ofuzr_eGfNBRCkUvhc","y":"3JRacbdyuioZQbpVseoVagoiz-GdED7sZ7xR0eku5jY","d":"akhoGvujR9kKAP46GgWTDt-Yq81V3qhfWOM1WPmJ_94","kid":"ec-1","alg":"ES256"}"#
    static let ecPublic = #"{"kty":"EC","crv":"P-256","x":"tg75E8bsfk0Rqus718nG6IO8-Ofuzr_eGfNBRCkUvhc","y":"3JRacbdyuioZQbpVseoVagoiz-GdED7sZ7xR0eku5jY","kid":"ec-1","alg":"ES256"}"#
    static let ec2Private = #"{"kty":"EC","crv":"P-256","x":"gKchotswGjuYm_ldwD-S23DR4lSZdXIQKT5nO9onJ4Y","y":"RDgwJsPkHF0QGZ7iuPL2bRRTn61y6EvF4bg1MOo67is","d":"kl2S98r-yGJnnhIQFNeFs3xurC5Dk-SvHUHY7zapRms","kid":"ec-2","alg":"ES256"}"#
    static let ec2Public = #"{"kty":"EC","crv":"P-256","x":"gKchotswGjuYm_ldwD-S23DR4lSZdXIQKT5nO9onJ4Y","y":"RDgwJsPkHF0QGZ7iuPL2bRRTn61y6EvF4bg1MOo67is","kid":"ec-2","alg":"ES256"}"#
    static let edPrivate = #"{"x":"XdQUgJME5hEDHeOlt8to1njA_q5_8J5zqYiKRnrXnpY","d":"cQ614GasgzO6wB8sMRTRbZrrWESy-Z2O33XUEKZ0AwA","kty":"OKP","crv":"Ed25519","kid":"ed-1","alg":"EdDSA"}"#
    static let edPublic = #"{"x":"XdQUgJME5hEDHeOlt8to1njA_q5_8J5zqYiKRnrXnpY","kty":"OKP","crv":"Ed25519","kid":"ed-1","alg":"EdDSA"}"#
    static let rsaPublicPEM = """
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAt8YSF2hwiBlci4n8hk8r
GY5l2R6uT0s7Qu1etJsT0IGzSf2lXG3y4NFYtZCBMCPt6rzBycxzx4ac2YrYtfUn
s77Rzl6U2deAzXM7GPQwiIQp0nw6PW5sxpCINfC4eWldU13wZXgsnC1yN6B6/cQs
2/tx9O0KunVSiHX7oQRraxjygbfFjR5yIIIv0mTIiTzVfBPjETiuOXFAtgF82igt
GrIvURParDgvil6ZRhOTXGrt6vTObIo0PZ0HFuop4CGi7t5U+EVRQA+z1XtUsRzB
KccDE+k7+GO9lVidsSwmY1RBEsoIH2NcOrB1HpfVk0IwQn15ofb4oLXA9w5WXc4l
iwIDAQAB
-----END PUBLIC KEY-----
"""
}
