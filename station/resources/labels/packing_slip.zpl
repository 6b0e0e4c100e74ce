[head]
^XA
^CI28
^PW812
^LL$length
^LH0,0
^FO30,24^A0N,40,36^FH^FDPacking slip $order^FS
^FO30,76^A0N,28,26^FB752,2,0,L,0^FH^FDCustomer: $customer^FS
^FO30,144^BY$module^BCN,90,N,N,N,N^FH^FD$barcode^FS
^FO30,246^A0N,28,26^FH^FD$order^FS
[line]
^FO30,$y^A0N,28,26^FB752,1,0,L,0^FH^FD$qty x $sku  $name^FS
[serial]
^FO70,$y^A0N,24,22^FB712,1,0,L,0^FH^FD$serial^FS
[foot]
^FO30,$y^A0N,24,22^FH^FD$units units^FS
^XZ
